"""The Edit studio's state without Qt: which attributes count as edits, which face is current (a grid cell or the
encoded photo), what becomes of a photo's encoding when it is re-aligned or replaced, the interpolation ends --
and that observers hear of each change."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from faceforge.editing.state import FaceState, InterpolationEnds, PhotoEdit

NAMES = ["smile", "glasses", "age"]


class FakeGen:
    """Just ``make_y``, as LoadedGenerator does it: a copy of ``base`` (or zeros) with the settings written in."""

    attributes = NAMES

    def make_y(self, n, settings=None, base=None):
        y = base.clone() if base is not None else torch.zeros(n, len(NAMES))
        for name, value in (settings or {}).items():
            y[:, NAMES.index(name)] = value
        return y


def _face() -> tuple[FaceState, list[str]]:
    face = FaceState()
    seen: list[str] = []
    face.observe(seen.append)
    face.set_model(NAMES, [0.5, -0.25])  # no mean for "age": it starts at 0
    face.set_grid(np.zeros((4, 8, 8, 3), np.uint8), torch.arange(4 * 2, dtype=torch.float32).reshape(4, 2))
    return face, seen


def _encoded_photo(face: FaceState, y=(1.5, -1.0, 0.25)) -> PhotoEdit:
    photo = face.photo
    photo.set_image(np.full((20, 30, 3), 7, np.uint8), "me.png")
    photo.set_aligned(np.full((8, 8, 3), 9, np.uint8))
    photo.set_encoded(torch.ones(1, 2), torch.tensor([list(y)]), np.zeros((8, 8, 3), np.uint8))
    return photo


def test_only_moved_attributes_are_edits_and_reset_puts_the_face_values_back():
    face, seen = _face()
    assert face.edits.values == {"smile": 0.5, "glasses": -0.25, "age": 0.0}
    assert face.settings() == {}
    face.set_attribute("glasses", 1.25)
    assert face.settings() == {"glasses": 1.25}
    assert seen[-1] == "attribute"
    with pytest.raises(KeyError):
        face.set_attribute("hat", 1.0)
    face.reset_attributes()
    assert seen[-1] == "reset"
    assert face.settings() == {} and face.edits.values["glasses"] == -0.25


def test_a_new_model_starts_over_but_keeps_seed_and_truncation():
    face, seen = _face()
    face.set_seed(42)
    face.set_truncation(0.7)
    face.select(3)
    face.set_attribute("smile", 2.0)
    assert seen[-4:] == ["seed", "truncation", "face", "attribute"]
    face.set_model(["hair"], None)
    assert seen[-1] == "model"
    assert (face.seed, face.truncation) == (42, 0.7)
    assert face.index == 0 and face.grid_z is None and face.grid_images is None
    assert face.edits.values == {"hair": 0.0} and face.settings() == {}


def test_selecting_a_cell_sets_the_index_and_ignores_cells_that_do_not_exist():
    face, seen = _face()
    assert face.select(2) and face.index == 2 and seen[-1] == "face"
    n = len(seen)
    assert not face.select(4) and not face.select(-1)
    assert face.index == 2 and len(seen) == n  # nothing changed, nobody told


def test_a_sampled_face_latent_is_its_grid_row_at_the_chosen_truncation():
    face, _ = _face()
    face.set_truncation(0.5)
    face.select(1)
    face.set_attribute("age", -1.0)
    z, y, truncation = face.latent(FakeGen())
    assert torch.equal(z, torch.tensor([[2.0, 3.0]])) and truncation == 0.5
    assert y.tolist() == [[0.0, 0.0, -1.0]]  # untouched attributes: the generator's default


def test_an_encoded_photo_becomes_the_current_face_with_its_own_attributes():
    face, seen = _face()
    face.set_truncation(0.5)
    face.set_attribute("smile", -2.0)  # an edit of the sampled face
    photo = _encoded_photo(face)
    assert photo.state == "encoded" and face.showing_photo and seen[-1] == "face"
    assert face.edits is photo.edits
    assert face.edits.values == {"smile": 1.5, "glasses": -1.0, "age": 0.25} and face.settings() == {}
    face.set_attribute("glasses", 2.0)
    z, y, truncation = face.latent(FakeGen())
    assert torch.equal(z, torch.ones(1, 2)) and truncation == 1.0  # a photo is never truncated
    assert y.tolist() == [[1.5, 2.0, 0.25]]  # what E_y read, with the one edit
    face.set_attribute("age", 1.0)
    face.reset_attributes()
    assert face.settings() == {} and face.edits.values["age"] == 0.25  # back to the photo's values, not the mean


def test_picking_a_grid_face_leaves_the_photo_for_the_neutral_sampled_face():
    face, _ = _face()
    face.set_attribute("smile", -2.0)
    photo = _encoded_photo(face)
    face.set_attribute("glasses", 2.0)
    assert face.select(2)
    assert not face.showing_photo and face.index == 2
    assert face.settings() == {} and face.edits.values["smile"] == 0.5
    assert photo.encoded and photo.edits.settings() == {"glasses": 2.0}  # the photo itself is untouched


def test_refining_keeps_the_edits_and_aligning_again_drops_the_encoding():
    face, seen = _face()
    photo = _encoded_photo(face)
    photo_seen: list[str] = []
    photo.observe(photo_seen.append)
    face.set_attribute("smile", -0.5)
    photo.set_refined(torch.full((1, 2), 3.0), torch.tensor([[0.0, 0.0, 0.0]]), np.ones((8, 8, 3), np.uint8))
    assert photo.state == "refined" and photo_seen == ["refined"]
    assert face.showing_photo and face.settings() == {"smile": -0.5} and seen[-1] == "face"
    assert torch.equal(face.latent(FakeGen())[0], torch.full((1, 2), 3.0))

    photo.clear_results()  # aligning again (or a new model)
    assert photo_seen[-1] == "cleared" and photo.state == "imported"
    assert photo.aligned is None and photo.z is None and photo.y is None and photo.reconstruction is None
    assert photo.edits.settings() == {} and photo.image is not None
    assert not face.showing_photo and face.settings() == {} and seen[-1] == "face"
    assert torch.equal(face.latent(FakeGen())[0], face.grid_z[0:1])


def test_a_new_image_or_a_new_crop_replaces_everything_derived_from_the_old_one():
    face, _ = _face()
    photo = _encoded_photo(face)
    face.set_attribute("age", 2.0)
    photo.set_aligned(np.zeros((8, 8, 3), np.uint8))  # a hand-made crop of the same image
    assert photo.state == "aligned" and photo.z is None and photo.edits.settings() == {}
    assert not face.showing_photo
    _encoded_photo(face)
    photo.set_image(np.zeros((10, 10, 3), np.uint8), "other.png")
    assert (photo.state, photo.name, photo.aligned, photo.z) == ("imported", "other.png", None, None)
    assert not photo.encoded and not face.showing_photo


def test_a_photo_moves_through_its_states_in_order():
    photo = PhotoEdit()
    assert photo.state == "empty"
    with pytest.raises(ValueError):
        photo.set_aligned(np.zeros((8, 8, 3), np.uint8))  # nothing to align
    photo.set_image(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError):
        photo.set_encoded(torch.zeros(1, 2), None, np.zeros((8, 8, 3), np.uint8))  # not aligned yet
    photo.set_aligned(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError):
        photo.set_refined(torch.zeros(1, 2), None, np.zeros((8, 8, 3), np.uint8))  # not encoded yet
    photo.set_encoded(torch.zeros(1, 2), None, np.zeros((8, 8, 3), np.uint8))
    assert photo.encoded
    photo.clear_results()
    assert photo.state == "imported"


def test_an_unconditional_photo_keeps_the_neutral_values():
    face, _ = _face()
    photo = face.photo
    photo.set_image(np.zeros((10, 10, 3), np.uint8))
    photo.set_aligned(np.zeros((8, 8, 3), np.uint8))
    photo.set_encoded(torch.zeros(1, 2), None, np.zeros((8, 8, 3), np.uint8))
    assert face.showing_photo and face.edits.values == {"smile": 0.5, "glasses": -0.25, "age": 0.0}


def test_interpolation_ends_are_set_swapped_and_cleared():
    ends = InterpolationEnds()
    seen: list[str] = []
    ends.observe(seen.append)
    ends.set("A", torch.zeros(2), None, image=np.zeros((4, 4, 3), np.uint8))
    assert not ends.complete and ends.get("B") is None and seen == ["set"]
    ends.swap()
    assert ends.get("A") is None and ends.get("B").image is not None and seen[-1] == "swapped"
    ends.set("A", torch.ones(2), torch.ones(3))
    assert ends.complete
    ends.swap()
    assert torch.equal(ends.get("A").z, torch.zeros(2)) and ends.get("A").y is None
    z, y = ends.get("B").latent
    assert torch.equal(z, torch.ones(2)) and torch.equal(y, torch.ones(3))
    with pytest.raises(ValueError):
        ends.set("C", torch.zeros(2), None)
    ends.clear()
    assert not ends.complete and ends.get("A") is None and seen[-1] == "cleared"
