from __future__ import annotations

from gate.main import main

raise SystemExit(main())
