"""Export presets: how to read the files PostHog, Mixpanel, Amplitude, GA4, Segment and
Shopify hand out, and how to recognise them.

A preset names the unit, event and time columns (dotted paths allowed), the time format, the
identity rule, the revenue rule, and *aliases*: the model vocabulary (``amount``, ``currency``,
``order_id``, ``channel``, ``referrer_id``) read from the vendor's usual property paths, so a
built-in model runs on the export unchanged. ``stage_events`` adds the vendor's standard event
names to the stages of each kind (a page view is a visit). docs/inputs.md documents each one,
with links to the vendor's export format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cjkit.errors import UsageError, did_you_mean
from cjkit.io.identity import Identity


@dataclass(frozen=True)
class RevenueRule:
    """What revenue counts: rows matching ``exclude`` add nothing, ``refunds`` subtract."""

    amount: tuple[str, ...] = ("amount",)
    exclude: Mapping[str, Any] = field(default_factory=dict)
    refunds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preset:
    """How to read one vendor's export."""

    name: str
    user: str
    event: str
    time: str
    time_format: str = "auto"
    identity: Identity | None = None
    event_value: str | None = None  # a constant event name, for exports without an event column
    event_fallback: str | None = None  # the column naming an event whose event column is null
    aliases: Mapping[str, str] = field(default_factory=dict)
    revenue: RevenueRule | None = None
    stage_events: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    signature: frozenset[str] = frozenset()
    docs: str = ""


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "posthog",
            user="distinct_id",
            event="event",
            time="timestamp",
            identity=Identity("properties.$anon_distinct_id", "distinct_id"),
            aliases={
                "amount": "properties.revenue",
                "currency": "properties.currency",
                "order_id": "properties.order_id",
                "channel": "properties.utm_source",
                "referrer_id": "properties.referrer_id",
            },
            stage_events={
                "acquisition": ("$pageview",),
                "activation": ("$identify",),
                "retention": ("$pageview",),
                "revenue": ("purchase",),
            },
            signature=frozenset({"uuid", "event", "distinct_id", "properties", "timestamp"}),
            docs="https://posthog.com/docs/data/events",
        ),
        Preset(
            "mixpanel",
            user="properties.distinct_id",
            event="event",
            time="properties.time",
            time_format="epoch_s",
            identity=Identity("properties.$anon_id", "properties.$identified_id"),
            aliases={
                "amount": "properties.amount",
                "currency": "properties.currency",
                "order_id": "properties.order_id",
                "channel": "properties.utm_source",
                "referrer_id": "properties.referrer_id",
            },
            stage_events={
                "acquisition": ("$mp_web_page_view",),
                "activation": ("Sign Up",),
                "retention": ("$mp_web_page_view",),
                "revenue": ("Purchase",),
            },
            signature=frozenset({"event", "properties"}),
            docs="https://developer.mixpanel.com/reference/raw-event-export",
        ),
        Preset(
            "amplitude",
            user="amplitude_id",
            event="event_type",
            time="event_time",
            aliases={
                "amount": "event_properties.$revenue",
                "currency": "event_properties.currency",
                "order_id": "event_properties.order_id",
                "channel": "user_properties.utm_source",
                "referrer_id": "event_properties.referrer_id",
            },
            stage_events={
                "acquisition": ("[Amplitude] Page Viewed",),
                "activation": ("Sign Up",),
                "retention": ("[Amplitude] Page Viewed",),
                "revenue": ("Purchase",),
            },
            signature=frozenset({"amplitude_id", "event_type", "event_time", "device_id"}),
            docs="https://amplitude.com/docs/apis/analytics/export",
        ),
        Preset(
            "ga4",
            user="user_id",
            event="event_name",
            time="event_timestamp",
            time_format="epoch_us",
            identity=Identity("user_pseudo_id", "user_id"),
            aliases={
                "amount": "ecommerce.purchase_revenue",
                "currency": "event_params.currency",
                "order_id": "ecommerce.transaction_id",
                "channel": "traffic_source.source",
                "session_id": "event_params.ga_session_id",
            },
            stage_events={
                "acquisition": ("page_view",),
                "activation": ("sign_up",),
                "retention": ("page_view",),
                "revenue": ("purchase",),
            },
            signature=frozenset(
                {"event_date", "event_timestamp", "event_name", "user_pseudo_id", "event_params"}
            ),
            docs="https://support.google.com/analytics/answer/7029846",
        ),
        Preset(
            "segment",
            user="userId",
            event="event",
            time="timestamp",
            identity=Identity("anonymousId", "userId"),
            event_fallback="type",
            aliases={
                "amount": "properties.revenue",
                "currency": "properties.currency",
                "order_id": "properties.order_id",
                "channel": "context.campaign.source",
                "referrer_id": "properties.referrer_id",
            },
            revenue=RevenueRule(refunds=("Order Refunded",)),
            stage_events={
                "acquisition": ("page",),
                "activation": ("Signed Up",),
                "retention": ("page",),
                "revenue": ("Order Completed", "Order Refunded"),
            },
            signature=frozenset({"anonymousId", "userId", "type", "messageId", "timestamp"}),
            docs="https://segment.com/docs/connections/spec/common/",
        ),
        Preset(
            "shopify",
            user="Email",
            event="event",
            time="Created at",
            event_value="order",
            aliases={
                "amount": "Total",
                "currency": "Currency",
                "order_id": "Name",
                "channel": "Source",
            },
            revenue=RevenueRule(
                exclude={
                    "Financial Status": ["refunded", "voided"],
                    "Cancelled at": {"exists": True},
                }
            ),
            stage_events={
                "acquisition": ("order",),
                "retention": ("order",),
                "revenue": ("order",),
            },
            signature=frozenset({"Name", "Email", "Financial Status", "Created at", "Total"}),
            docs="https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders",
        ),
    )
}


def get(name: str) -> Preset:
    """Return the preset called ``name``; raise UsageError with the known names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UsageError(
            f"unknown preset '{name}' (expected {', '.join(PRESETS)})",
            hint=did_you_mean(name, list(PRESETS)),
        ) from None


def detect(columns: Iterable[str]) -> str | None:
    """Return the preset whose export shape ``columns`` has (the most specific match), or None."""
    names = set(columns)
    best: tuple[int, str] | None = None
    for preset in PRESETS.values():
        if preset.signature <= names and (best is None or len(preset.signature) > best[0]):
            best = (len(preset.signature), preset.name)
    if best and best[1] == "mixpanel" and names - {"event", "properties"}:
        return None  # a Mixpanel raw export has exactly these two keys
    return best[1] if best else None
