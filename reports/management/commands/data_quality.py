"""Print the data-quality report, one line per finding, each naming its record."""

from django.utils.translation import gettext as _

from kernel.commands import ClerkCommand, figure
from reports import quality


class Command(ClerkCommand):
    help = (
        "List what needs a clerk's attention; exits with status 1 when anything is found. "
        "--language ru or tg prints the findings in Russian or Tajik (the check codes in "
        "brackets stay as they are)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="",
            help="Prefix for the record links, e.g. https://registry.example.tj",
        )

    def handle(self, *args, base_url, **options):
        findings = quality.findings()
        for finding in findings:
            self.stdout.write(
                f"[{finding.check}] {finding.record}: {finding.message} "
                f"{base_url.rstrip('/')}{finding.url}"
            )
        self.stderr.write(_("%(count)s finding(s).") % {"count": figure(len(findings))})
        if findings:
            raise SystemExit(1)
