"""Keep what the share rule keeps (deposits.shares.refresh_kept) in step with every
estimate, deposit mineral and deposit visibility written one at a time.

Bulk paths (QuerySet.update, bulk_create, loaddata) bypass these signals and call
`refresh_kept` themselves.
"""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from deposits.models import Deposit, DepositCommodity, ReserveEstimate
from deposits.shares import refresh_after_visibility_change, refresh_kept, refresh_own_kilograms


@receiver(pre_save, sender=ReserveEstimate)
def remember_previous_place(sender, instance, raw=False, **kwargs):
    """An estimate moved to another deposit or mineral changes the figures of both."""
    previous = None
    if not raw and instance.pk is not None:
        previous = (
            ReserveEstimate.objects.filter(pk=instance.pk)
            .values_list("deposit_id", "mineral_id")
            .first()
        )
    instance._previous_place = previous or (None, None)


@receiver(post_save, sender=ReserveEstimate)
def refresh_after_estimate_save(sender, instance, raw=False, **kwargs):
    if not raw:
        deposit, mineral = instance._previous_place
        refresh_kept({instance.deposit_id, deposit}, {instance.mineral_id, mineral})


@receiver(post_delete, sender=ReserveEstimate)
def refresh_after_estimate_delete(sender, instance, **kwargs):
    refresh_kept({instance.deposit_id}, {instance.mineral_id})


@receiver(post_save, sender=DepositCommodity)
def refresh_after_commodity_save(sender, instance, raw=False, **kwargs):
    """A deposit mineral added (or changed to another mineral) after its estimates."""
    if not raw:
        refresh_own_kilograms(instance)


@receiver(pre_save, sender=Deposit)
def remember_previous_visibility(sender, instance, raw=False, **kwargs):
    """The totals a share is read over are kept per visibility level of the deposits."""
    previous = None
    if not raw and instance.pk is not None:
        previous = Deposit.objects.filter(pk=instance.pk).values_list("visibility", flat=True)
        previous = previous.first()
    instance._previous_visibility = previous


@receiver(post_save, sender=Deposit)
def refresh_after_visibility_save(sender, instance, raw=False, created=False, **kwargs):
    previous = getattr(instance, "_previous_visibility", None)
    if not raw and not created and previous != instance.visibility:
        refresh_after_visibility_change(instance.pk)
