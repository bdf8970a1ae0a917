from aetui.cli import main

raise SystemExit(main())
