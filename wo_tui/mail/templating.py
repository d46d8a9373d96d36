"""Email templates: files shipped in `wo_tui/mail/templates/`, each replaceable by a file of
the same name in the operator's `smtp.templates_dir`.

Templates use `string.Template` substitution (`$name` or `${name}`; `$$` for a dollar sign):
no code runs in a template. An override that names an unknown placeholder, or has a stray `$`,
pauses sending with a message naming the file, instead of sending a broken email.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from wo_tui.mail.errors import TemplateProblem

KINDS = ("assignment", "reassignment_notice", "cancellation_notice")
PARTS = ("subject", "txt", "html")
"""Each kind has three files: `<kind>.subject`, `<kind>.txt` and `<kind>.html`."""

PLACEHOLDERS: dict[str, str] = {
    "number": "the order's number, e.g. WO-000123",
    "type": "the type's short name, e.g. Reconnection",
    "type_full": "the type's full name, e.g. Reconnection (re-energisation)",
    "priority": "High, Medium or Low",
    "status": "the order's status",
    "customer": "the customer's name",
    "account": "the account number",
    "site": "the site address",
    "site_id": "the site identifier (NMI)",
    "meter_number": "the meter number / serial",
    "meter_location": "where the meter is",
    "scheduled": "scheduled date and window, e.g. Fri 27 Nov 2026, 08:00-12:00",
    "service_time": "Any time, Business hours or After hours",
    "due_date": "the date the job is due by",
    "preferred_date": "the customer's preferred date",
    "instructions": "what to do",
    "materials": "materials needed",
    "access_details": "how to get in",
    "hazards": "known hazards",
    "life_support": "YES for a registered life-support site, else no",
    "life_support_warning": "a prominent warning on a life-support site, else empty",
    "assignee": "the recipient's name",
    "current_assignee": "who has the order now (for a reassignment notice)",
    "assigned_by": "the dispatcher who assigned the order",
    "assigned_at": "when it was assigned",
    "cancel_reason": "why the order was cancelled",
    "cancel_note": "the dispatcher's note on the cancellation",
    "from_address": "the sender's address (for replies)",
}
"""Every placeholder a template may use; each is filled for every kind ('-' when empty)."""


@dataclass(frozen=True)
class Templates:
    """The templates in force: (kind, part) → Template."""

    by_name: dict[tuple[str, str], Template]

    def render(self, kind: str, part: str, values: dict[str, str]) -> str:
        """Fill one template; every placeholder is known, so this cannot fail."""
        return self.by_name[(kind, part)].substitute(values)


def file_name(kind: str, part: str) -> str:
    """The file of one template, e.g. `assignment.subject`."""
    return f"{kind}.{part}"


def default_text(name: str) -> str:
    """A shipped template's text."""
    return (resources.files("wo_tui.mail") / "templates" / name).read_text(encoding="utf-8")


def check(text: str, where: str) -> Template:
    """The template, or TemplateProblem naming `where` and what is wrong."""
    template = Template(text)
    if not template.is_valid():
        raise TemplateProblem(
            f"template {where}: a '$' must start a placeholder such as $number "
            "(write $$ for a dollar sign)"
        )
    if where.endswith(".subject") and "\n" in text.strip():
        raise TemplateProblem(f"template {where}: a subject is one line")
    unknown = sorted(set(template.get_identifiers()) - set(PLACEHOLDERS))
    if unknown:
        raise TemplateProblem(
            f"template {where}: unknown placeholder {', '.join('$' + u for u in unknown)}; "
            f"known placeholders: {', '.join(sorted(PLACEHOLDERS))}"
        )
    return template


def load_templates(templates_dir: Path | None) -> Templates:
    """The shipped templates, each replaced by the operator's file of the same name when
    `templates_dir` has one (a missing file falls back to the shipped one)."""
    found: dict[tuple[str, str], Template] = {}
    for kind in KINDS:
        for part in PARTS:
            name = file_name(kind, part)
            override = templates_dir.expanduser() / name if templates_dir else None
            if override is not None and override.is_file():
                try:
                    text = override.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise TemplateProblem(f"template {override}: cannot be read ({exc})") from None
                found[(kind, part)] = check(text, str(override))
            else:
                found[(kind, part)] = check(default_text(name), f"(shipped) {name}")
    return Templates(found)
