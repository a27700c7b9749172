import multiprocessing

multiprocessing.freeze_support()  # first, before anything else runs (a frozen multiprocessing child)

from faceforge.cli import main  # noqa: E402

raise SystemExit(main())
