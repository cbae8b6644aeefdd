"""Write the six sample exports: the same 40 people, in each vendor's export format.

The story (hand-countable): person i = 1..40 lands anonymously on 2024-01-(1 + (i-1) % 10) at
10:00 UTC (one page view, from google when i is odd, else from a newsletter); persons 1..30 sign
up an hour later (the identify call ties the anonymous id to user-ii); persons 1..20 buy a day
after landing, for 20 + i USD (620 in all... see test_presets.py for every number). Each file
follows the vendor's public export format (links in docs/inputs.md):

* posthog.csv      PostHog event export (CSV): properties as a JSON string, $identify with
                   $anon_distinct_id;
* mixpanel.ndjson  Mixpanel raw event export: {event, properties{time, distinct_id, ...}},
                   $identify with $anon_id / $identified_id (original ID merge);
* amplitude.ndjson Amplitude Export API events: amplitude_id per person, device_id, user_id
                   (null before sign-up), event_time "YYYY-MM-DD HH:MM:SS.ffffff" UTC;
* ga4.ndjson       GA4 BigQuery export rows as JSON: event_timestamp in microseconds,
                   event_params key/value records, user_pseudo_id and user_id;
* segment.ndjson   Segment spec messages: page, identify, track (Signed Up, Order Completed,
                   and one Order Refunded of person 1's order);
* shopify.csv      Shopify orders export: the 20 paid orders plus one refunded, one voided and
                   one cancelled order (persons 21..23), "Created at" as "YYYY-MM-DD HH:MM:SS +0700".

Run: python tests/data/exports/make_exports.py (it rewrites the files next to it).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
PEOPLE = range(1, 41)
SIGNED_UP = range(1, 31)
BOUGHT = range(1, 21)


def landing(i: int) -> datetime:
    return datetime(2024, 1, 1 + (i - 1) % 10, 10, 0, tzinfo=UTC)


def source(i: int) -> str:
    return "google" if i % 2 else "newsletter"


def amount(i: int) -> float:
    return 20.0 + i


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _ndjson(name: str, rows: list[dict[str, object]]) -> None:
    rows.sort(key=lambda r: json.dumps(r, sort_keys=True))  # row order must not matter
    (HERE / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


def posthog() -> None:
    rows = []
    for i in PEOPLE:
        t = landing(i)
        rows.append(
            [
                f"{i:04d}-0000-pv",
                "$pageview",
                {"$current_url": "https://shop.example/", "utm_source": source(i)},
                iso(t),
                f"anon-{i:02d}",
            ]
        )
        if i in SIGNED_UP:
            rows.append(
                [
                    f"{i:04d}-0001-id",
                    "$identify",
                    {"$anon_distinct_id": f"anon-{i:02d}"},
                    iso(t + timedelta(hours=1)),
                    f"user-{i:02d}",
                ]
            )
        if i in BOUGHT:
            rows.append(
                [
                    f"{i:04d}-0002-pu",
                    "purchase",
                    {"revenue": amount(i), "currency": "USD", "order_id": f"o-{i:02d}"},
                    iso(t + timedelta(days=1)),
                    f"user-{i:02d}",
                ]
            )
    with (HERE / "posthog.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["uuid", "event", "properties", "timestamp", "distinct_id"])
        for r in rows:
            w.writerow([r[0], r[1], json.dumps(r[2]), r[3], r[4]])


def mixpanel() -> None:
    rows: list[dict[str, object]] = []
    for i in PEOPLE:
        t = int(landing(i).timestamp())
        rows.append(
            {
                "event": "$mp_web_page_view",
                "properties": {
                    "time": t,
                    "distinct_id": f"anon-{i:02d}",
                    "$insert_id": f"pv{i}",
                    "utm_source": source(i),
                    "current_url_path": "/",
                },
            }
        )
        if i in SIGNED_UP:
            rows.append(
                {
                    "event": "$identify",
                    "properties": {
                        "time": t + 3600,
                        "distinct_id": f"user-{i:02d}",
                        "$insert_id": f"id{i}",
                        "$anon_id": f"anon-{i:02d}",
                        "$identified_id": f"user-{i:02d}",
                    },
                }
            )
            rows.append(
                {
                    "event": "Sign Up",
                    "properties": {
                        "time": t + 3600,
                        "distinct_id": f"user-{i:02d}",
                        "$insert_id": f"su{i}",
                    },
                }
            )
        if i in BOUGHT:
            rows.append(
                {
                    "event": "Purchase",
                    "properties": {
                        "time": t + 86400,
                        "distinct_id": f"user-{i:02d}",
                        "$insert_id": f"pu{i}",
                        "amount": amount(i),
                        "currency": "USD",
                        "order_id": f"o-{i:02d}",
                    },
                }
            )
    _ndjson("mixpanel.ndjson", rows)


def amplitude() -> None:
    rows: list[dict[str, object]] = []
    for i in PEOPLE:
        t = landing(i)
        base = {
            "amplitude_id": 100000 + i,
            "device_id": f"dev-{i:02d}",
            "session_id": int(t.timestamp() * 1000),
            "platform": "Web",
            "user_properties": {"utm_source": source(i)},
        }

        def event(
            kind: str,
            at: datetime,
            user: str | None,
            props: dict[str, object],
            n: int,
            base: dict[str, object] = base,
            i: int = i,
        ) -> dict[str, object]:
            return {
                **base,
                "event_type": kind,
                "user_id": user,
                "uuid": f"{i}-{n}",
                "event_time": at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "event_properties": props,
            }

        rows.append(event("[Amplitude] Page Viewed", t, None, {"[Amplitude] Page Path": "/"}, 0))
        if i in SIGNED_UP:
            rows.append(event("Sign Up", t + timedelta(hours=1), f"user-{i:02d}", {}, 1))
        if i in BOUGHT:
            rows.append(
                event(
                    "Purchase",
                    t + timedelta(days=1),
                    f"user-{i:02d}",
                    {"$revenue": amount(i), "currency": "USD", "order_id": f"o-{i:02d}"},
                    2,
                )
            )
    _ndjson("amplitude.ndjson", rows)


def ga4() -> None:
    rows: list[dict[str, object]] = []
    for i in PEOPLE:
        t = landing(i)

        def event(
            name: str,
            at: datetime,
            user: str | None,
            params: list[dict[str, object]],
            ecommerce: dict[str, object] | None,
            i: int = i,
        ) -> dict[str, object]:
            return {
                "event_date": at.strftime("%Y%m%d"),
                "event_timestamp": int(at.timestamp() * 1_000_000),
                "event_name": name,
                "event_params": [
                    {"key": "ga_session_id", "value": {"int_value": 1700 + i}},
                    *params,
                ],
                "user_pseudo_id": f"{1000 + i}.1704100000",
                "user_id": user,
                "traffic_source": {"source": source(i), "medium": "organic", "name": "(none)"},
                "ecommerce": ecommerce,
            }

        page = [{"key": "page_location", "value": {"string_value": "https://shop.example/"}}]
        rows.append(event("page_view", t, None, page, None))
        if i in SIGNED_UP:
            rows.append(
                event(
                    "sign_up",
                    t + timedelta(hours=1),
                    f"user-{i:02d}",
                    [{"key": "method", "value": {"string_value": "email"}}],
                    None,
                )
            )
        if i in BOUGHT:
            rows.append(
                event(
                    "purchase",
                    t + timedelta(days=1),
                    f"user-{i:02d}",
                    [{"key": "currency", "value": {"string_value": "USD"}}],
                    {"purchase_revenue": amount(i), "transaction_id": f"o-{i:02d}"},
                )
            )
    _ndjson("ga4.ndjson", rows)


def segment() -> None:
    rows: list[dict[str, object]] = []
    for i in PEOPLE:
        t = landing(i)
        anon, user = f"anon-{i:02d}", f"user-{i:02d}"
        ctx = {
            "campaign": {"source": source(i), "medium": "email" if i % 2 == 0 else "cpc"},
            "library": {"name": "analytics.js", "version": "4.1.0"},
        }
        rows.append(
            {
                "type": "page",
                "name": "Home",
                "anonymousId": anon,
                "userId": None,
                "messageId": f"m{i}-0",
                "timestamp": iso(t),
                "context": ctx,
                "properties": {"path": "/"},
            }
        )
        if i in SIGNED_UP:
            at = iso(t + timedelta(hours=1))
            rows.append(
                {
                    "type": "identify",
                    "anonymousId": anon,
                    "userId": user,
                    "messageId": f"m{i}-1",
                    "timestamp": at,
                    "context": ctx,
                    "traits": {"email": f"{user}@example.com"},
                }
            )
            rows.append(
                {
                    "type": "track",
                    "event": "Signed Up",
                    "anonymousId": anon,
                    "userId": user,
                    "messageId": f"m{i}-2",
                    "timestamp": at,
                    "context": ctx,
                    "properties": {"type": "organic"},
                }
            )
        if i in BOUGHT:
            rows.append(
                {
                    "type": "track",
                    "event": "Order Completed",
                    "anonymousId": anon,
                    "userId": user,
                    "messageId": f"m{i}-3",
                    "timestamp": iso(t + timedelta(days=1)),
                    "context": ctx,
                    "properties": {
                        "order_id": f"o-{i:02d}",
                        "revenue": amount(i),
                        "currency": "USD",
                    },
                }
            )
    # Person 1 returns the order two days later: Segment's refund event, with a positive total.
    rows.append(
        {
            "type": "track",
            "event": "Order Refunded",
            "anonymousId": "anon-01",
            "userId": "user-01",
            "messageId": "m1-4",
            "timestamp": iso(landing(1) + timedelta(days=3)),
            "context": {},
            "properties": {"order_id": "o-01", "revenue": amount(1), "currency": "USD"},
        }
    )
    _ndjson("segment.ndjson", rows)


def shopify() -> None:
    header = [
        "Name",
        "Email",
        "Financial Status",
        "Paid at",
        "Fulfillment Status",
        "Currency",
        "Subtotal",
        "Total",
        "Created at",
        "Cancelled at",
        "Source",
        "Id",
    ]
    rows = []
    statuses = {21: "refunded", 22: "voided", 23: "paid"}
    for i in [*BOUGHT, 21, 22, 23]:
        local = landing(i) + timedelta(days=1, hours=7)  # the shop's zone is +07:00
        stamp = local.strftime("%Y-%m-%d %H:%M:%S +0700")
        status = statuses.get(i, "paid")
        cancelled = stamp if i == 23 else ""
        rows.append(
            [
                f"#{1000 + i}",
                f"user-{i:02d}@example.com",
                status,
                stamp,
                "fulfilled",
                "USD",
                f"{amount(i):.2f}",
                f"{amount(i):.2f}",
                stamp,
                cancelled,
                "web",
                str(5000000 + i),
            ]
        )
    with (HERE / "shopify.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


if __name__ == "__main__":
    posthog()
    mixpanel()
    amplitude()
    ga4()
    segment()
    shopify()
