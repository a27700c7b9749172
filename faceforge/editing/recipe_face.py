"""Opening a recipe in the Edit studio, without Qt: a sampled face's recipe puts the studio back where the export
was made - seed, default labels, truncation (psi and its layers for a model with W), the style source and its
layers, the attributes set - and the next grid makes the recipe's face current, so the current face is drawn from
the same numbers and gives the same pixels. Fitted-direction sliders are a layer above (directions/): the pane puts
them back first (``DirectionSliders.restore``) and hands their edit here, to find a z model's cell.

Only one sampled face (``kind`` "sample", one z, a seed) can be reopened this way: a photo's edit has no grid cell,
and a grid, strip or figure is more than one face (``faceforge generate --recipe`` rebuilds any recipe).
"""
from __future__ import annotations

from faceforge.editing.state import FaceState
from faceforge.recipes import Recipe


def restorable(recipe: Recipe) -> str | None:
    """None if the studio can reopen ``recipe``, else why not (for people)."""
    if recipe.kind != "sample" or recipe.n != 1 or recipe.seed is None or not recipe.z:
        return (f"this recipe is a {recipe.kind} of {recipe.n} face(s); only a sampled face exported from the Edit "
                "pane opens here (faceforge generate --recipe rebuilds any recipe)")
    return None


def check_restore(face: FaceState, recipe: Recipe) -> None:
    """ValueError (for people) when ``recipe`` cannot be reopened on this model: not a sampled face, or it names
    layers or a mix this model lacks. Changes nothing (callers check before changing anything)."""
    why = restorable(recipe)
    if why is not None:
        raise ValueError(why)
    layers = (recipe.truncation_layers or {}).get("layers", "all")
    if face.w_space:
        from faceforge.editing.wspace import check_layers

        check_layers(layers, face.num_ws, allow_all=True)
        if recipe.mix:
            check_layers(recipe.mix["layers"], face.num_ws, allow_all=False)
    elif recipe.mix or layers != "all":
        raise ValueError("this recipe was made with a model with a W space; this one has none")


def restore_face(face: FaceState, recipe: Recipe, *, latent_edit=None) -> None:
    """Put the studio's settings back to the recipe's; the face becomes current when the seed's grid arrives.
    ValueError (nothing changed) when the recipe is not a sampled face or names layers this model lacks.

    ``latent_edit``: the fitted-direction edit put back from the recipe (the face's ``latent_edit``). A model
    without W keeps the *moved* z in its recipe, so the cell to find is that z less the edit's step (an edit of z
    adds a fixed step); a W model's recipe keeps the cell's own z (the edit moved its styles)."""
    import torch

    check_restore(face, recipe)
    layers = (recipe.truncation_layers or {}).get("layers", "all")
    mix = recipe.mix
    if recipe.labels:
        face.set_labels(recipe.labels)
    face.set_truncation(float(recipe.truncation))
    if face.w_space:
        face.set_truncation_layers(layers)
        if mix:
            face.set_mix_layers(mix["layers"])
            z2 = torch.tensor(mix["z"], dtype=torch.float32) if mix.get("z") else None
            if z2 is None:  # an older record: the cell's z from its seed
                from faceforge.editing.generator import seeded_z

                z2 = seeded_z(int(mix["seed"]), int(mix.get("index", 0)) + 1, len(recipe.z[0]))[-1]
            face.set_mix_source(z2, int(mix["seed"]), int(mix.get("index", 0)))
        else:
            face.clear_mix()
    edits = face.sample_edits
    edits.touched.clear()
    for name, value in (recipe.edits or {}).items():
        if name in edits.values:
            edits.set(name, value)
    z = torch.tensor(recipe.z[0], dtype=torch.float32).reshape(1, -1)
    if latent_edit is not None and not face.w_space:
        z = z - latent_edit(torch.zeros_like(z))
    face.pending_z = z.reshape(-1).numpy()
    face.showing_photo = False
    face.set_seed(int(recipe.seed))
