"""Datasets for FaceForge: the built-in procedural faces, image folders and zips, label files, and the cache.

Deliberately numpy + Pillow only (no torch, no Qt), so the CLI's ``dataset check`` and the GUI's file browser can
import it quickly; turning arrays into tensors is the training code's job.
"""
from faceforge.data.dataset import Cancelled, DatasetReport, FaceDataset, check_dataset, load_dataset
from faceforge.data.images import BadImageError, crop_and_resize, decode_image, thumbnail
from faceforge.data.labels import LabelTable, match_labels, read_labels
from faceforge.data.sources import DatasetError, ImageRef, scan
from faceforge.data.synthetic import BUILTIN_ATTRIBUTES, make_builtin, measure_attributes

__all__ = [
    "BUILTIN_ATTRIBUTES",
    "BadImageError",
    "Cancelled",
    "DatasetError",
    "DatasetReport",
    "FaceDataset",
    "ImageRef",
    "LabelTable",
    "check_dataset",
    "crop_and_resize",
    "decode_image",
    "load_dataset",
    "make_builtin",
    "match_labels",
    "measure_attributes",
    "read_labels",
    "scan",
    "thumbnail",
]
