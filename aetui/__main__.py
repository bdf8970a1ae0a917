from aetui.cli.main import main

raise SystemExit(main())
