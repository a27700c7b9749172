"""The bundle's entry point (PyInstaller runs this file as __main__).

freeze_support() comes before any other import: a frozen executable started by multiprocessing as a child must
do the child's work and exit, not start the app again. Then the same ``main`` as the ``faceforge`` command.
"""
import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from faceforge.cli import main

    raise SystemExit(main())
