from prodlens.cli import main

raise SystemExit(main())
