"""Where gate's pre-commit hooks come from: the repository ``gate init`` names in the
``.pre-commit-config.yaml`` it writes, pinned to the release tag of the gate that writes
it (``v`` and the version, the project's tag scheme).

The address is never invented: it is the one given (``gate init --hooks-repo URL``), or
the git repository this gate was installed from (pip's record of a ``git+URL`` install,
PEP 610), or the source repository its package metadata names. Without one, gate init
writes no pre-commit config and says why. Credentials in a URL are never written.
"""
from __future__ import annotations

import json
import re
from importlib import metadata
from urllib.parse import urlsplit, urlunsplit

from gate import __version__

#: Labels of the ``Project-URL`` metadata entries that name the source repository.
SOURCE_LABELS = ("source", "source code", "repository", "code")
# An scp-style git address: user@host:path.
_SCP = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$")
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")


def release_tag(version: str = __version__) -> str:
    """The tag of gate's release ``version``: ``v0.1.0``."""
    return f"v{version}"


def remote_url(url: str) -> str | None:
    """``url`` as a pre-commit ``repo:`` of a remote git repository (https, ssh or
    ``user@host:path``), with any password or token removed; None for anything else."""
    url = url.strip()
    if not url or _UNSAFE.search(url):
        return None
    if _SCP.match(url):
        return url
    parts = urlsplit(url.removeprefix("git+"))
    if parts.scheme not in ("https", "ssh") or not parts.hostname:
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    user = parts.username if parts.scheme == "ssh" and parts.username else None
    netloc = f"{user}@{host}" if user else host  # an https user is often a token
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def installed_from() -> str | None:
    """The git repository this gate was installed from, or that its metadata names."""
    distribution = _distribution()
    if distribution is None:
        return None
    recorded = distribution.read_text("direct_url.json")
    if recorded:
        try:
            origin = json.loads(recorded)
        except ValueError:
            origin = None
        if (isinstance(origin, dict) and isinstance(origin.get("url"), str)
                and isinstance(origin.get("vcs_info"), dict)
                and origin["vcs_info"].get("vcs") == "git"):
            found = remote_url(origin["url"])
            if found is not None:
                return found
    for entry in distribution.metadata.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() in SOURCE_LABELS:
            found = remote_url(url)
            if found is not None:
                return found
    return None


def _distribution() -> metadata.Distribution | None:
    """The installed distribution that provides this ``gate`` package, whatever its name
    on the package index (another project's ``gate`` package may be installed too)."""
    found: list[metadata.Distribution] = []
    for name in dict.fromkeys(metadata.packages_distributions().get("gate", [])):
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if any(str(path).replace("\\", "/") == "gate/hooksource.py"
               for path in distribution.files or []):
            return distribution
        found.append(distribution)
    # An editable install lists none of its modules: then only an unambiguous one.
    return found[0] if len(found) == 1 else None


def check_given(url: str) -> str:
    """A ``--hooks-repo`` value: any address pre-commit can clone (a local path too),
    on one line, without control characters."""
    if not url.strip() or _UNSAFE.search(url):
        from gate.errors import ConfigError

        raise ConfigError(f"--hooks-repo: not a repository address: {url!r}")
    return url
