"""Keep the national reserve totals in step with every estimate written one at a time.

Bulk paths (QuerySet.update, bulk_create, loaddata) bypass these signals and call
deposits.shares.refresh_national_totals themselves.
"""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from deposits.models import ReserveEstimate
from deposits.shares import refresh_national_totals


@receiver(pre_save, sender=ReserveEstimate)
def remember_previous_mineral(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._previous_mineral_id = None
        return
    instance._previous_mineral_id = (
        ReserveEstimate.objects.filter(pk=instance.pk).values_list("mineral_id", flat=True).first()
    )


@receiver(post_save, sender=ReserveEstimate)
def refresh_after_save(sender, instance, raw=False, **kwargs):
    if not raw:
        previous = getattr(instance, "_previous_mineral_id", None)
        refresh_national_totals({instance.mineral_id, previous})


@receiver(post_delete, sender=ReserveEstimate)
def refresh_after_delete(sender, instance, **kwargs):
    refresh_national_totals({instance.mineral_id})
