"""The built-in policy pack: a folder per policy, ``<id>/<id>.yaml``, beside the policy's
``gate test`` file and cases (``gate test gate/policies``); only the policy files are
installed (pyproject.toml)."""
