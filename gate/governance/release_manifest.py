"""Release manifests: the certified version of every service of a release.

With ``release_manifest`` in ``.gate.yaml`` the manifest (read where the rules
are read: with ``gate diff --rules-from base`` the tip of the target branch, so a
change cannot certify its own image; otherwise the head of the change) becomes
the change document's ``release``, and the promotion policy holds production to
it exactly.
"""
from __future__ import annotations

from typing import Any

from gate.errors import ConfigError
from gate.loading.imageref import parse_image
from gate.loading.trees import FileTree
from gate.loading.yamlio import YamlInputError, decode, load_located
from gate.schema_validation import schema_error, schema_validator


def load_release(tree: FileTree, path: str, name: str | None = None) -> dict[str, Any]:
    """The manifest at ``path`` of ``tree`` as a change-document value; ConfigError if bad."""
    name = name or path
    try:
        raw = tree.read_bytes(path)
    except (FileNotFoundError, IsADirectoryError):
        raise ConfigError("release manifest not found (release_manifest in the config)",
                          name) from None
    except OSError as exc:
        raise ConfigError(f"cannot read release manifest: {exc.strerror}", name) from None
    try:
        located = load_located(decode(raw, name), name)
    except YamlInputError as exc:
        raise ConfigError(exc.message, exc.file, exc.line) from None
    documents = [d for d in located.documents if d.data is not None]
    if len(documents) != 1:
        line = documents[1].line if len(documents) > 1 else None
        raise ConfigError("a release manifest holds exactly one YAML document", name, line)
    data = documents[0].data
    if not isinstance(data, dict):
        raise ConfigError(f"a release manifest is a mapping, not a {type(data).__name__}", name,
                          documents[0].line)
    found = schema_error(schema_validator("release.schema.json"), data)
    if found is not None:
        raise ConfigError(found[1], name, located.line(0, found[0]))
    services = []
    seen: dict[str, int] = {}
    for index, service in enumerate(data["services"]):
        line = located.line(0, ("services", index)) or 1
        image_name = parse_image(service["image"])["name"]
        if image_name in seen:
            raise ConfigError(f"image {service['image']!r} is listed twice (first at line "
                              f"{seen[image_name]})", name, line)
        seen[image_name] = line
        version = service["version"]
        services.append({
            "name": service["name"],
            "image": service["image"],
            "image_name": image_name,
            "version": version,
            "digest": version if ":" in version else None,
            "tag": None if ":" in version else version,
            "file": name,
            "line": line,
        })
    return {"file": name, "release": data["release"], "services": services}
