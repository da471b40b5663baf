"""Compliance frameworks and the controls gate's built-in policies are mapped to.

A control id is ``<FRAMEWORK>:<control>``: the text before the first ``:`` names the
framework (``CIS-Kubernetes``, ``NIST-800-53``, ``PCI-DSS``, ``NSA-CISA``, ``SOC2``,
``ITIL``), the rest the control within it (``5.2.10``, ``AC-6``, ``2.2.6``,
``pod-security``, ``CC8.1``). Reports group their per-control table by framework with
this registry, and ``gate policies --framework`` lists what covers one.

The registry holds only the controls some built-in policy is mapped to, each with its
title as the publisher words it (checked against public copies of each document; where
no title could be checked, none is given). It is not a catalogue of the frameworks:
gate never lists a control no policy is mapped to.

Built-in policies must use known frameworks and controls (``builtin_control_errors``;
the test suite enforces it). A user's policy may name any id: one whose framework is not
here is grouped under ``Other``; one of a known framework that the registry lacks is
listed under that framework, without a title. The framework is matched without regard
to case (``nist-800-53:AC-6`` is NIST's AC-6); the control as written.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol


@dataclass(frozen=True, eq=False)  # each framework is one object: compared by identity
class Framework:
    """A published control framework and the controls of it gate's policies cite."""

    key: str  # the id prefix, e.g. "CIS-Kubernetes"
    title: str  # e.g. "CIS Kubernetes Benchmark"
    version: str  # e.g. "v1.9.0"
    publisher: str
    url: str  # the publisher's page for the document
    alias: str  # the short name `gate policies --framework` accepts, e.g. "cis"
    controls: Mapping[str, str | None] = field(default_factory=dict)  # control -> title

    @property
    def name(self) -> str:
        """Title and version: ``CIS Kubernetes Benchmark v1.9.0``."""
        return f"{self.title} {self.version}"

    def control_id(self, control: str) -> str:
        """The full id of one of its controls: ``CIS-Kubernetes:5.2.2``."""
        return f"{self.key}:{control}"


def _controls(pairs: Iterable[tuple[str, str | None]]) -> Mapping[str, str | None]:
    table = dict(pairs)
    return MappingProxyType(table)


CIS_KUBERNETES = Framework(
    key="CIS-Kubernetes",
    title="CIS Kubernetes Benchmark",
    version="v1.9.0",
    publisher="Center for Internet Security",
    url="https://www.cisecurity.org/benchmark/kubernetes",
    alias="cis",
    # Section 5 (Policies): the recommendation titles, without the (Automated)/(Manual)
    # marker.
    controls=_controls([
        ("5.1.1", "Ensure that the cluster-admin role is only used where required"),
        ("5.1.3", "Minimize wildcard use in Roles and ClusterRoles"),
        ("5.1.5", "Ensure that default service accounts are not actively used"),
        ("5.1.6", "Ensure that Service Account Tokens are only mounted where necessary"),
        ("5.2.2", "Minimize the admission of privileged containers"),
        ("5.2.3", "Minimize the admission of containers wishing to share the host process "
                  "ID namespace"),
        ("5.2.4", "Minimize the admission of containers wishing to share the host IPC "
                  "namespace"),
        ("5.2.5", "Minimize the admission of containers wishing to share the host network "
                  "namespace"),
        ("5.2.6", "Minimize the admission of containers with allowPrivilegeEscalation"),
        ("5.2.7", "Minimize the admission of root containers"),
        ("5.2.8", "Minimize the admission of containers with the NET_RAW capability"),
        ("5.2.9", "Minimize the admission of containers with added capabilities"),
        ("5.2.10", "Minimize the admission of containers with capabilities assigned"),
        ("5.2.11", "Minimize the admission of Windows HostProcess containers"),
        ("5.2.12", "Minimize the admission of HostPath volumes"),
        ("5.2.13", "Minimize the admission of containers which use HostPorts"),
        ("5.4.1", "Prefer using Secrets as files over Secrets as environment variables"),
        ("5.5.1", "Configure Image Provenance using ImagePolicyWebhook admission controller"),
        ("5.7.2", "Ensure that the seccomp profile is set to docker/default in your Pod "
                  "definitions"),
        ("5.7.3", "Apply SecurityContext to your Pods and Containers"),
        ("5.7.4", "The default namespace should not be used"),
    ]),
)

NIST_800_53 = Framework(
    key="NIST-800-53",
    title="NIST SP 800-53",
    version="Rev. 5",
    publisher="National Institute of Standards and Technology",
    url="https://csrc.nist.gov/pubs/sp/800/53/r5/upd1/final",
    alias="nist",
    # Control names as in NIST's OSCAL catalogue of Rev. 5.
    controls=_controls([
        ("AC-2", "Account Management"),
        ("AC-3", "Access Enforcement"),
        ("AC-4", "Information Flow Enforcement"),
        ("AC-6", "Least Privilege"),
        ("CM-2", "Baseline Configuration"),
        ("CM-3", "Configuration Change Control"),
        ("CM-4", "Impact Analyses"),
        ("CM-5", "Access Restrictions for Change"),
        ("CM-6", "Configuration Settings"),
        ("CM-7", "Least Functionality"),
        ("CM-8", "System Component Inventory"),
        ("CP-10", "System Recovery and Reconstitution"),
        ("IA-5", "Authenticator Management"),
        ("SC-4", "Information in Shared System Resources"),
        ("SC-5", "Denial-of-service Protection"),
        ("SC-6", "Resource Availability"),
        ("SC-7", "Boundary Protection"),
        ("SC-28", "Protection of Information at Rest"),
        ("SI-7", "Software, Firmware, and Information Integrity"),
        ("SI-17", "Fail-safe Procedures"),
        ("SR-3", "Supply Chain Controls and Processes"),
    ]),
)

PCI_DSS = Framework(
    key="PCI-DSS",
    title="PCI DSS",
    version="v4.0",
    publisher="PCI Security Standards Council",
    url="https://www.pcisecuritystandards.org/document_library/",
    alias="pci",
    # The defined-approach requirement statements, their bullet lists run on one line
    # with ";" (6.5.1 without its list of what the procedures include).
    controls=_controls([
        ("1.2.5", "All services, protocols, and ports allowed are identified, approved, "
                  "and have a defined business need."),
        ("1.3.1", "Inbound traffic to the CDE is restricted as follows: to only traffic "
                  "that is necessary; all other traffic is specifically denied."),
        ("2.2.6", "System security parameters are configured to prevent misuse."),
        ("6.3.2", "An inventory of bespoke and custom software, and third-party software "
                  "components incorporated into bespoke and custom software is maintained "
                  "to facilitate vulnerability and patch management."),
        ("6.5.1", "Changes to all system components in the production environment are "
                  "made according to established procedures."),
        ("7.2.2", "Access is assigned to users, including privileged users, based on: job "
                  "classification and function; least privileges necessary to perform job "
                  "responsibilities."),
        ("8.3.2", "Strong cryptography is used to render all authentication factors "
                  "unreadable during transmission and storage on all system components."),
        ("12.5.1", "An inventory of system components that are in scope for PCI DSS, "
                   "including a description of function/use, is maintained and kept "
                   "current."),
    ]),
)

NSA_CISA = Framework(
    key="NSA-CISA",
    title="NSA/CISA Kubernetes Hardening Guide",
    version="v1.2 (August 2022)",
    publisher="National Security Agency and Cybersecurity and Infrastructure Security Agency",
    url="https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/"
        "CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
    alias="nsa",
    # The guide does not number its recommendations: a control is the slug of the
    # section that makes it, titled with the section's heading.
    controls=_controls([
        ("pod-security", "Kubernetes Pod security"),
        ("non-root-containers", "\"Non-root\" containers and \"rootless\" container engines"),
        ("immutable-filesystems", "Immutable container file systems"),
        ("image-security", "Building secure container images"),
        ("service-account-tokens", "Protecting Pod service account tokens"),
        ("container-hardening", "Hardening container environments"),
        ("network-separation", "Network separation and hardening"),
        ("namespaces", "Namespaces"),
        ("resource-policies", "Resource policies"),
        ("secrets", "Secrets"),
        ("rbac", "Role-based access control"),
    ]),
)

SOC2 = Framework(
    key="SOC2",
    title="SOC 2 Trust Services Criteria",
    version="2017",
    publisher="American Institute of Certified Public Accountants (AICPA)",
    url="https://www.aicpa-cima.com/resources/download/"
        "2017-trust-services-criteria-with-revised-points-of-focus-2022",
    alias="soc2",
    controls=_controls([
        ("A1.1", "The entity maintains, monitors, and evaluates current processing capacity "
                 "and use of system components (infrastructure, data, and software) to "
                 "manage capacity demand and to enable the implementation of additional "
                 "capacity to help meet its objectives."),
        ("CC6.1", "The entity implements logical access security software, infrastructure, "
                  "and architectures over protected information assets to protect them "
                  "from security events to meet the entity's objectives."),
        ("CC8.1", "The entity authorizes, designs, develops or acquires, configures, "
                  "documents, tests, approves, and implements changes to infrastructure, "
                  "data, software, and procedures to meet its objectives."),
    ]),
)

ITIL = Framework(
    key="ITIL",
    title="ITIL",
    version="4",
    publisher="AXELOS (PeopleCert)",
    url="https://www.axelos.com/certifications/itil-service-management",
    alias="itil",
    # ITIL is a body of practice guides without numbered controls: these two ids name the
    # change record and the change schedule of its Change Enablement practice, so they
    # carry no title.
    controls=_controls([
        ("change-record", None),
        ("change-schedule", None),
    ]),
)

#: Every framework, in the order reports list them.
FRAMEWORKS: tuple[Framework, ...] = (CIS_KUBERNETES, NIST_800_53, PCI_DSS, NSA_CISA, SOC2,
                                     ITIL)
#: The group of control ids whose framework is not in the registry, listed last.
OTHER = "Other"
OTHER_ALIAS = "other"

_BY_KEY = {framework.key.casefold(): framework for framework in FRAMEWORKS}
_BY_ALIAS = {framework.alias: framework for framework in FRAMEWORKS}


def split(control_id: str) -> tuple[str, str] | None:
    """``(framework prefix, control)`` of ``PREFIX:control``; None without a ``:`` or
    with either part empty."""
    prefix, colon, control = control_id.partition(":")
    if not colon or not prefix or not control:
        return None
    return prefix, control


def framework_of(control_id: str) -> Framework | None:
    """The registered framework a control id belongs to (its prefix matched without
    regard to case), or None: the id goes under ``Other``."""
    parts = split(control_id)
    return None if parts is None else _BY_KEY.get(parts[0].casefold())


def control_title(control_id: str) -> str | None:
    """The registered title of a control, or None when unknown or untitled."""
    framework = framework_of(control_id)
    if framework is None:
        return None
    return framework.controls.get(split(control_id)[1])  # type: ignore[index]


def is_known(control_id: str) -> bool:
    """True when the id's framework is registered, spelt as registered, and lists it."""
    parts = split(control_id)
    framework = framework_of(control_id)
    return (parts is not None and framework is not None and parts[0] == framework.key
            and parts[1] in framework.controls)


def find(name: str) -> Framework | None:
    """The framework ``gate policies --framework NAME`` means: its key or its alias,
    without regard to case (``cis``, ``CIS-Kubernetes``, ``nist``, ``pci-dss``)."""
    folded = name.strip().casefold()
    return _BY_ALIAS.get(folded) or _BY_KEY.get(folded)


_NUMBER = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[object, ...], str]:
    """Sort key putting numbers in numeric order: ``5.2.9`` before ``5.2.10``, ``AC-2``
    before ``AC-10``; text parts compared without regard to case, then the text itself
    breaks ties, so the order is total and deterministic."""
    parts = _NUMBER.split(text)
    key = tuple(int(part) if index % 2 else part.casefold()
                for index, part in enumerate(parts))
    return key, text


def group_order(control_id: str) -> int:
    """Position of a control id's framework in ``FRAMEWORKS``; ``len(FRAMEWORKS)`` for
    ``Other``."""
    framework = framework_of(control_id)
    return len(FRAMEWORKS) if framework is None else FRAMEWORKS.index(framework)


def sort_key(control_id: str) -> tuple[int, tuple[tuple[object, ...], str]]:
    """Framework in registry order (``Other`` last), then the control in natural order
    (the whole id for ``Other``, so ids group by their prefix)."""
    parts = split(control_id)
    framework = framework_of(control_id)
    local = parts[1] if framework is not None and parts is not None else control_id
    return group_order(control_id), natural_key(local)


class _HasControls(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def controls(self) -> tuple[str, ...]: ...


def builtin_control_errors(policies: Iterable[_HasControls]) -> list[str]:
    """What is wrong with the control ids of built-in policies: each must name a
    registered framework, spelt as registered, and a control the registry lists.
    Empty when all is well. (User policies are free to name any id.)"""
    errors = []
    for policy in policies:
        for control in policy.controls:
            parts = split(control)
            framework = framework_of(control)
            if parts is None or framework is None:
                known = ", ".join(f.key for f in FRAMEWORKS)
                errors.append(f"{policy.id}: control {control!r} names no known framework "
                              f"(known: {known})")
            elif parts[0] != framework.key:
                errors.append(f"{policy.id}: control {control!r}: write the framework as "
                              f"{framework.key!r}")
            elif parts[1] not in framework.controls:
                errors.append(f"{policy.id}: control {control!r} is not in the registry of "
                              f"{framework.name} (gate/governance/frameworks.py)")
    return errors
