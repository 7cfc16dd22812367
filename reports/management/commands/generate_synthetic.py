"""Fill a database with a synthetic registry for benchmarks."""

import time

from django.core.management.base import BaseCommand, CommandError

from reports import synthetic


class Command(BaseCommand):
    help = (
        "Generate N synthetic deposits (named SYN-000001, ...) with minerals, reserve "
        "estimates (superseded ones too), yearly State Balance lines and cooperation "
        "records, deterministically for a seed. For benchmarks "
        "only: bulk inserts skip the change history."
    )

    def add_arguments(self, parser):
        parser.add_argument("--deposits", type=int, required=True, metavar="N")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even though the database holds real (non-synthetic) records",
        )

    def handle(self, *args, deposits, seed, force, **options):
        if deposits < 1:
            raise CommandError("--deposits must be at least 1")
        if synthetic.holds_real_records() and not force:
            raise CommandError(
                "this database holds real registry records; synthetic data must not be mixed "
                "into them. Use a dedicated database, or --force if you really mean it."
            )
        self.stdout.write(
            "Synthetic data is written in bulk: no change history is recorded for it."
        )
        started = time.perf_counter()
        counts = synthetic.generate(deposits, seed=seed)
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {counts.deposits} deposits, {counts.commodities} deposit minerals, "
                f"{counts.estimates} reserve estimates, {counts.movements} balance lines, "
                f"{counts.organisations} organisations, "
                f"{counts.topics} topics, {counts.events} events "
                f"in {time.perf_counter() - started:.1f} s (seed {seed})."
            )
        )
