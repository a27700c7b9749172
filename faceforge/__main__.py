from faceforge.cli import main

raise SystemExit(main())
