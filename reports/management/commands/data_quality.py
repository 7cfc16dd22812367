"""Print the data-quality report, one line per finding, each naming its record."""

from django.core.management.base import BaseCommand

from reports import quality


class Command(BaseCommand):
    help = "List what needs a clerk's attention; exits with status 1 when anything is found."

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
        self.stderr.write(f"{len(findings)} finding(s).")
        if findings:
            raise SystemExit(1)
