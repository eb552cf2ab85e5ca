"""Every write to the reception's printed materials (reception 2.1.9): what is on display where, restocking, the
count on hand and the review of the content. Each change stays in the item's history with its author."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from clientdesk.errors import Conflict
from reception.models import PrintedMaterial

MATERIAL_FIELDS = ("name", "kind", "location", "stock", "minimum", "review_by", "is_active")


def _save(material: PrintedMaterial, *, by: User | None, reason: str = "") -> None:
    material.full_clean(validate_constraints=False)
    material._history_user = by
    if reason:
        material._change_reason = reason
    try:
        with transaction.atomic():
            material.save()
    except IntegrityError as exc:
        raise Conflict(_("This item is already listed at this place."), field="name") from exc


def _check_unique(material: PrintedMaterial) -> None:
    clash = PrintedMaterial.objects.filter(name=material.name, location=material.location).exclude(pk=material.pk)
    if clash.exists():
        raise Conflict(_("This item is already listed at this place."), field="name", existing=clash.first())


@transaction.atomic
def material_create(
    *,
    by: User | None,
    name: str,
    kind: str,
    location: str,
    stock: int = 0,
    minimum: int = 0,
    review_by: date | None = None,
    is_active: bool = True,
) -> PrintedMaterial:
    """Put a printed item on the list, with where it lives, the stock, the minimum to keep and its review date."""
    material = PrintedMaterial(
        name=name.strip(),
        kind=kind,
        location=location,
        stock=stock,
        minimum=minimum,
        review_by=review_by,
        is_active=is_active,
    )
    _check_unique(material)
    _save(material, by=by)
    return material


@transaction.atomic
def material_update(*, material: PrintedMaterial, by: User | None, **fields) -> PrintedMaterial:
    """Change an item (an item no longer used is marked so, never deleted)."""
    unknown = set(fields) - set(MATERIAL_FIELDS)
    if unknown:
        raise TypeError(f"material_update does not change {sorted(unknown)}")
    material = PrintedMaterial.objects.select_for_update().get(pk=material.pk)
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    for name, value in fields.items():
        setattr(material, name, value)
    _check_unique(material)
    _save(material, by=by)
    return material


@transaction.atomic
def material_restock(*, material: PrintedMaterial, by: User | None, quantity: int) -> PrintedMaterial:
    """Record copies put out: the stock grows by `quantity` (an F() update, so two managers restocking at once add
    both), and the history says who added how many."""
    if quantity <= 0:
        raise ValidationError({"quantity": _("Add at least one copy.")})
    material = PrintedMaterial.objects.select_for_update().get(pk=material.pk)
    material.stock = F("stock") + quantity
    _save_counter(material, by=by, reason=_("restocked: +%(n)d") % {"n": quantity})
    material.refresh_from_db()
    return material


def _save_counter(material: PrintedMaterial, *, by: User | None, reason: str) -> None:
    material._history_user = by
    material._change_reason = reason
    material.save(update_fields=["stock", "updated_at"])
