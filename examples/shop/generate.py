"""Generate cjkit's synthetic e-commerce example: ``events.parquet`` and ``spend.csv``.

What it models
--------------
About 50,000 shoppers of an online store over six months (2025-01-01 to 2025-06-30, UTC). Each
user arrives through one first-touch channel (organic, paid_search, paid_social, email, affiliate,
or referral by a friend's invite), has a persona (bargain_hunter, loyalist, explorer, gift_buyer),
a country and a main device. From there the journey is:

    visit → product_view → add_to_cart → signup → onboarding_complete → purchase
          → order_delivered (2–6 days later) → review_posted / nps_survey → invite_sent

with real drop-off at every step. Channels and personas convert differently (referral and email
best, paid_social worst; loyalists best, explorers browse a lot and buy little). A latent
per-user engagement ties the steps together, so activated users retain and buy more. Visits
recur with user-specific gaps and a Beta-geometric churn process, which gives the long-tailed
(power-law-like) activity of real shops: most users never return, a few visit weekly. Some
purchases lead to support tickets, about 3% of orders are refunded (``refund`` with a negative
``amount`` and the same ``order_id``), users in DE/FR/ES pay in EUR and everyone else in USD,
and NPS answers (0–10) follow a plausible, persona-dependent distribution.

Referrals are closed-loop: invited friends who accept become ``referral`` users whose first
visit comes after the invite, and whose ``signup`` carries ``referrer_id`` = the inviting user.
Paid channels' daily budgets (``spend.csv``) drive when their users arrive, so CAC is coherent.

Everything is vectorized with numpy (one loop over a handful of referral generations). Events
after 2025-06-30 are cut off, as in a real export.

How to run
----------
From the repository root::

    .venv/bin/python examples/shop/generate.py

It overwrites ``examples/shop/events.parquet`` and ``examples/shop/spend.csv``. The seed is
fixed, so a rerun with the same numpy and polars versions reproduces both files byte for byte
(``--check`` regenerates into memory and compares instead of writing).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

SEED = 20250101
HERE = Path(__file__).resolve().parent
DAY = 86_400
START = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2025, 7, 1, tzinfo=UTC).timestamp())  # exclusive
N_DAYS = (END - START) // DAY  # 181
N_BASE = 48_000  # users not acquired by referral; invited friends come on top

# ---------------------------------------------------------------- vocabularies and parameters
EVENTS = [
    "visit",
    "product_view",
    "add_to_cart",
    "signup",
    "onboarding_complete",
    "purchase",
    "order_delivered",
    "refund",
    "support_ticket",
    "review_posted",
    "nps_survey",
    "invite_sent",
]
EV = {name: i for i, name in enumerate(EVENTS)}

CHANNELS = ["organic", "paid_search", "paid_social", "email", "referral", "affiliate"]
CH = {name: i for i, name in enumerate(CHANNELS)}
CH_SHARE = np.array([0.33, 0.23, 0.20, 0.10, 0.00, 0.14])  # of non-referral users
CH_SIGNUP = np.array([0.30, 0.27, 0.12, 0.42, 0.55, 0.20])  # P(account) before multipliers
CH_RETURN = np.array([0.45, 0.40, 0.27, 0.55, 0.60, 0.33])  # P(ever comes back)
CH_CHECKOUT = np.array([1.00, 1.00, 0.75, 1.15, 1.25, 0.95])  # checkout multiplier

PERSONAS = ["bargain_hunter", "loyalist", "explorer", "gift_buyer"]
PE_SHARE = np.array([0.35, 0.20, 0.25, 0.20])
PE_SIGNUP = np.array([1.00, 1.35, 0.70, 0.90])
PE_RETURN = np.array([1.00, 1.40, 1.10, 0.70])
PE_GAP_DAYS = np.array([4.0, 2.5, 4.0, 10.0])  # median gap between visits
PE_VIEWS = np.array([2.4, 1.8, 3.4, 2.0])  # mean product views per non-bounced session
PE_CART = np.array([0.30, 0.34, 0.14, 0.30])  # P(add to cart | viewed)
PE_ONBOARD = np.array([0.70, 0.90, 0.62, 0.64])
PE_CHECKOUT = np.array([0.44, 0.70, 0.34, 0.62])
PE_BASKET = np.array([0.80, 1.10, 1.00, 1.35])  # order value multiplier
PE_REFUND = np.array([0.050, 0.028, 0.040, 0.040])
PE_REVIEW = np.array([0.08, 0.22, 0.12, 0.06])
PE_NPS_MU = np.array([7.0, 9.0, 7.6, 7.8])
PE_INVITE = np.array([1.0, 1.6, 1.2, 0.8])

COUNTRIES = ["US", "GB", "CA", "DE", "FR", "ES", "AU", "IN", "BR"]
CO_SHARE = np.array([0.45, 0.10, 0.07, 0.10, 0.08, 0.05, 0.05, 0.05, 0.05])
CO_EUR = np.isin(np.array(COUNTRIES), ["DE", "FR", "ES"])
CURRENCIES = ["USD", "EUR"]

DEVICES = ["mobile", "desktop", "tablet"]
DEV_SHARE = np.array([0.55, 0.38, 0.07])

CAMPAIGNS = [
    "brand_search",
    "generic_search",
    "always_on_social",
    "spring_sale",
    "mothers_day",
    "newsletter",
    "partner_list",
    "friend_invite",
    "partner_network",
    "cashback_sites",
    "retention_email",
]
CA = {name: i for i, name in enumerate(CAMPAIGNS)}

CATEGORIES = ["electronics", "home", "fashion", "beauty", "books", "toys", "sports", "grocery"]
CAT_SHARE = np.array([0.12, 0.16, 0.20, 0.12, 0.12, 0.09, 0.10, 0.09])
CAT_PRICE = np.array([120.0, 45.0, 38.0, 22.0, 14.0, 28.0, 55.0, 12.0])
N_PRODUCTS = 1_200

TOPICS = [
    "delivery_status",
    "payment",
    "product_question",
    "returns",
    "account",
    "refund",
    "damaged_item",
]

# Hour-of-day activity (UTC), a plain evening-heavy curve.
HOUR_W = np.array(
    [
        *[0.5, 0.35, 0.25, 0.2, 0.2, 0.25, 0.4, 0.6, 0.8, 0.95, 1.0, 1.05],  # 00-11
        *[1.1, 1.1, 1.05, 1.05, 1.1, 1.2, 1.35, 1.5, 1.55, 1.4, 1.1, 0.8],  # 12-23
    ]
)

# Paid channels: total budget over the six months, in USD.
BUDGET = {
    "paid_search": 128_000.0,
    "paid_social": 96_000.0,
    "affiliate": 34_000.0,
    "email": 15_000.0,
}


def day_index(month: int, day: int) -> int:
    return (date(2025, month, day) - date(2025, 1, 1)).days


SPRING_SALE = (day_index(3, 1), day_index(3, 21))
MOTHERS_DAY = (day_index(4, 25), day_index(5, 11))
VALENTINES = (day_index(2, 1), day_index(2, 14))


# ------------------------------------------------------------------------------------ helpers
def seg_starts(counts: np.ndarray) -> np.ndarray:
    """Start offset of each segment in a flat array built with np.repeat(…, counts)."""
    return np.cumsum(counts) - counts


def seg_rank(counts: np.ndarray) -> np.ndarray:
    """Position of each element inside its segment (0, 1, 2, … per segment)."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(seg_starts(counts), counts)


def seg_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` restarting at each segment."""
    c = np.concatenate([[0], np.cumsum(values)])
    return c[1:] - np.repeat(c[seg_starts(counts)], counts)


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    hours = rng.choice(24, size=n, p=HOUR_W / HOUR_W.sum())
    return hours * 3600 + rng.integers(0, 3600, size=n)


def exp_s(rng: np.random.Generator, mean_s: float, n: int, floor_s: int = 1) -> np.ndarray:
    """Whole seconds, at least ``floor_s``, exponential around ``mean_s``."""
    return floor_s + np.floor(rng.exponential(mean_s, size=n)).astype(np.int64)


def uniform_s(rng: np.random.Generator, lo_days: float, hi_days: float, n: int) -> np.ndarray:
    return np.floor(rng.uniform(lo_days * DAY, hi_days * DAY, size=n)).astype(np.int64)


class Events:
    """Column store of generated events: ints with -1 (or NaN) for null."""

    COLS = (
        "uid",
        "ev",
        "ts",
        "campaign",
        "device",
        "session",
        "product",
        "referrer",
        "amount",
        "currency",
        "order",
        "invite",
        "score",
        "rating",
        "topic",
    )

    def __init__(self) -> None:
        self.chunks: list[dict[str, np.ndarray]] = []

    def add(self, ev: str, uid: np.ndarray, ts: np.ndarray, **props: np.ndarray) -> None:
        n = len(uid)
        chunk: dict[str, np.ndarray] = {
            "uid": uid.astype(np.int64),
            "ev": np.full(n, EV[ev], dtype=np.int64),
            "ts": ts.astype(np.int64),
        }
        for col in self.COLS[3:]:
            if col in props:
                chunk[col] = props[col]
            elif col == "amount":
                chunk[col] = np.full(n, np.nan)
            else:
                chunk[col] = np.full(n, -1, dtype=np.int64)
        self.chunks.append(chunk)

    def concat(self) -> dict[str, np.ndarray]:
        return {c: np.concatenate([ch[c] for ch in self.chunks]) for c in self.COLS}


# ------------------------------------------------------------------------- the world's fixtures
def make_catalog(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    category = rng.choice(len(CATEGORIES), size=N_PRODUCTS, p=CAT_SHARE)
    price = np.exp(rng.normal(np.log(CAT_PRICE[category]), 0.45))
    price = np.maximum(np.floor(price), 2) + 0.99
    popularity = 1.0 / np.arange(1, N_PRODUCTS + 1) ** 1.05
    popularity = popularity[rng.permutation(N_PRODUCTS)]
    return category, price, popularity / popularity.sum()


def channel_weights(rng: np.random.Generator) -> np.ndarray:
    """Relative daily intensity of each channel (rows: channel, cols: day)."""
    d = np.arange(N_DAYS)
    weekday = (np.array([date(2025, 1, 1).weekday()]) + d) % 7  # 0 = Monday
    weekend = weekday >= 5
    w = np.zeros((len(CHANNELS), N_DAYS))
    w[CH["organic"]] = (1 + 0.5 * d / N_DAYS) * np.where(weekend, 0.85, 1.0)
    w[CH["paid_search"]] = (1 + 0.3 * d / N_DAYS) * np.where(weekend, 0.75, 1.05)
    social = np.full(N_DAYS, 0.7)
    social[SPRING_SALE[0] : SPRING_SALE[1] + 1] = 2.4
    social[MOTHERS_DAY[0] : MOTHERS_DAY[1] + 1] = 2.1
    w[CH["paid_social"]] = social * np.where(weekend, 1.2, 1.0)
    w[CH["email"]] = np.where(np.isin(weekday, [1, 3]), 1.0, 0.12)  # Tuesday and Thursday sends
    w[CH["affiliate"]] = np.ones(N_DAYS)
    w *= np.exp(rng.normal(0, 0.12, size=w.shape))
    return w


def base_users(rng: np.random.Generator, weights: np.ndarray) -> dict[str, np.ndarray]:
    n = N_BASE
    ch = rng.choice(len(CHANNELS), size=n, p=CH_SHARE)
    day = np.zeros(n, dtype=np.int64)
    for c in range(len(CHANNELS)):  # one draw per channel
        idx = np.flatnonzero(ch == c)
        if len(idx):
            day[idx] = rng.choice(N_DAYS, size=len(idx), p=weights[c] / weights[c].sum())
    t0 = START + day * DAY + time_of_day(rng, n)
    campaign = np.full(n, -1, dtype=np.int64)
    r = rng.random(n)
    campaign[ch == CH["paid_search"]] = np.where(
        r[ch == CH["paid_search"]] < 0.4, CA["brand_search"], CA["generic_search"]
    )
    social = ch == CH["paid_social"]
    camp_social = np.full(n, CA["always_on_social"])
    camp_social[(day >= SPRING_SALE[0]) & (day <= SPRING_SALE[1])] = CA["spring_sale"]
    camp_social[(day >= MOTHERS_DAY[0]) & (day <= MOTHERS_DAY[1])] = CA["mothers_day"]
    campaign[social] = camp_social[social]
    em = ch == CH["email"]
    campaign[em] = np.where(r[em] < 0.8, CA["newsletter"], CA["partner_list"])
    af = ch == CH["affiliate"]
    campaign[af] = np.where(r[af] < 0.6, CA["partner_network"], CA["cashback_sites"])
    return {
        "t0": t0,
        "channel": ch,
        "campaign": campaign,
        "persona": rng.choice(len(PERSONAS), size=n, p=PE_SHARE),
        "country": rng.choice(len(COUNTRIES), size=n, p=CO_SHARE),
        "device": rng.choice(len(DEVICES), size=n, p=DEV_SHARE),
        "eng": np.exp(rng.normal(0, 0.35, size=n)),
        "referrer": np.full(n, -1, dtype=np.int64),
    }


# --------------------------------------------------------------------------- one generation
def simulate(
    rng: np.random.Generator,
    users: dict[str, np.ndarray],
    uid0: int,
    catalog: tuple[np.ndarray, np.ndarray, np.ndarray],
    counters: dict[str, int],
    out: Events,
) -> dict[str, np.ndarray]:
    """Add every event of these users to ``out``; return the friends they bring (new users)."""
    _, price_of, popularity = catalog
    n = len(users["t0"])
    uid = uid0 + np.arange(n)
    pe, ch, eng, t0 = users["persona"], users["channel"], users["eng"], users["t0"]

    # -- visits: P(return at all), then Beta-geometric continuation → long-tailed activity
    p_ret = np.clip(CH_RETURN[ch] * PE_RETURN[pe] * np.sqrt(eng), 0, 0.95)
    returned = rng.random(n) < p_ret
    cont = np.clip(rng.beta(4.5, 0.55, size=n) * eng**0.25, 0.01, 0.985)
    k_max = 1 + returned * np.minimum(rng.geometric(1 - cont), 200)
    gap = np.exp(rng.normal(np.log(PE_GAP_DAYS[pe]), 0.7)) / eng**0.3
    s_user = np.repeat(np.arange(n), k_max)
    k = seg_rank(k_max)
    gaps = np.where(k == 0, 0, np.floor(rng.exponential(gap[s_user])) + 1).astype(np.int64)
    days = seg_cumsum(gaps, k_max)
    later = (t0 // DAY * DAY)[s_user] + days * DAY + time_of_day(rng, len(k))
    s_ts = np.where(k == 0, t0[s_user], later)
    keep = s_ts < END  # increasing per user, so the kept sessions are a prefix
    s_user, k, s_ts = s_user[keep], k[keep], s_ts[keep]
    n_sess = np.bincount(s_user, minlength=n)
    first_sess = seg_starts(n_sess)
    ns = len(s_user)
    s_id = counters["session"] + np.arange(ns)
    counters["session"] += ns
    s_dev = np.where(rng.random(ns) < 0.85, users["device"][s_user], rng.choice(3, ns, p=DEV_SHARE))
    s_camp = np.where(
        k == 0,
        users["campaign"][s_user],
        np.where(rng.random(ns) < 0.2, CA["retention_email"], -1),
    )
    sp, sc = pe[s_user], ch[s_user]

    # -- signup (mostly in the first session) and onboarding (same or a later session, or never)
    will_signup = rng.random(n) < np.clip(CH_SIGNUP[ch] * PE_SIGNUP[pe] * eng, 0, 0.95)
    signup_k = np.minimum(rng.geometric(0.55, size=n) - 1, n_sess - 1)
    signup_s = first_sess + signup_k
    will_onb = will_signup & (rng.random(n) < np.clip(PE_ONBOARD[pe] * eng**0.3, 0, 0.97))
    onb_k = signup_k + rng.geometric(0.8, size=n) - 1
    onboarded = will_onb & (onb_k < n_sess)
    onb_s = first_sess + np.minimum(onb_k, n_sess - 1)

    # -- browsing: bounce, product views, add to cart
    bounce = rng.random(ns) < np.where(k == 0, 0.38, 0.22)
    n_views = np.where(bounce, 0, 1 + rng.poisson(PE_VIEWS[sp] - 1))
    n_views = np.minimum(n_views, 20)
    su = signup_s[will_signup]
    n_views[su] = np.maximum(n_views[su], 1 + rng.poisson(1.0, size=len(su)))
    p_cart = np.clip(PE_CART[sp] * np.sqrt(eng[s_user]), 0, 0.9)
    cart = (n_views > 0) & (rng.random(ns) < p_cart)
    cart[su] |= rng.random(len(su)) < 0.7  # most accounts are made at checkout
    n_items = np.where(cart, 1 + (rng.random(ns) < 0.25), 0)

    v_sess = np.repeat(np.arange(ns), n_views)
    v_ts = s_ts[v_sess] + seg_cumsum(exp_s(rng, 60, len(v_sess), 15), n_views)
    v_prod = rng.choice(N_PRODUCTS, size=len(v_sess), p=popularity)
    v_first = seg_starts(n_views)
    c_sess = np.repeat(np.arange(ns), n_items)
    c_view = v_first[c_sess] + np.floor(rng.random(len(c_sess)) * n_views[c_sess]).astype(np.int64)
    c_ts = v_ts[c_view] + exp_s(rng, 40, len(c_sess), 5)
    c_prod = v_prod[c_view]
    last = s_ts.copy()  # time of the latest event so far in each session
    np.maximum.at(last, v_sess, v_ts)
    np.maximum.at(last, c_sess, c_ts)

    signup_ts = np.zeros(n, dtype=np.int64)
    signup_ts[will_signup] = last[su] + exp_s(rng, 90, len(su), 20)
    last[su] = signup_ts[will_signup]
    onb_ts = np.zeros(n, dtype=np.int64)
    os_ = onb_s[onboarded]
    onb_ts[onboarded] = last[os_] + exp_s(rng, 240, len(os_), 30)
    last[os_] = onb_ts[onboarded]

    # -- purchase: needs an account and a cart; onboarded users check out far more often
    signed = will_signup[s_user] & (k >= signup_k[s_user])
    onb_by = onboarded[s_user] & (k >= onb_k[s_user])
    s_day = (s_ts - START) // DAY
    gift_season = (sp == PERSONAS.index("gift_buyer")) & (
        ((s_day >= VALENTINES[0]) & (s_day <= VALENTINES[1]))
        | ((s_day >= MOTHERS_DAY[0]) & (s_day <= MOTHERS_DAY[1]))
    )
    p_buy = PE_CHECKOUT[sp] * CH_CHECKOUT[sc] * np.where(onb_by, 1.0, 0.45)
    p_buy = np.clip(p_buy * np.where(gift_season, 1.5, 1.0) * eng[s_user] ** 0.3, 0, 0.95)
    buy = cart & signed & (rng.random(ns) < p_buy)
    o_sess = np.flatnonzero(buy)
    no = len(o_sess)
    o_user = s_user[o_sess]
    o_ts = last[o_sess] + exp_s(rng, 150, no, 30)
    basket = np.zeros(ns)
    np.add.at(basket, c_sess, price_of[c_prod])
    amount = basket[o_sess] * PE_BASKET[pe[o_user]] * np.exp(rng.normal(0, 0.1, no))
    amount = amount + np.where(amount < 50, 4.99, 0.0)
    o_eur = CO_EUR[users["country"][o_user]]
    amount = np.round(np.where(o_eur, amount * 0.93, amount), 2)
    o_cur = o_eur.astype(np.int64)
    o_id = counters["order"] + np.arange(no)
    counters["order"] += no
    o_prod = c_prod[seg_starts(n_items)[o_sess]]

    # -- after the order: delivery, refunds, support, reviews, NPS
    o_del = o_ts + uniform_s(rng, 2, 6, no)
    delivered = o_del < END
    refunded = rng.random(no) < PE_REFUND[pe[o_user]]
    r_ts = o_del + uniform_s(rng, 1, 14, no)
    partial = rng.random(no) < 0.2
    r_amount = -np.where(partial, np.round(amount * rng.uniform(0.2, 0.7, no), 2), amount)
    tk = np.where(refunded, rng.random(no) < 0.8, rng.random(no) < 0.06)
    tk_ts = np.where(
        refunded,
        np.maximum(r_ts - uniform_s(rng, 0.3, 3, no), o_ts + 3600),
        o_ts + uniform_s(rng, 0.5, 8, no),
    )
    tk_topic = np.where(
        refunded,
        rng.choice([5, 6], size=no, p=[0.7, 0.3]),
        rng.choice(5, size=no, p=[0.40, 0.15, 0.25, 0.10, 0.10]),
    )
    review = delivered & (rng.random(no) < PE_REVIEW[pe[o_user]])
    rv_ts = o_del + uniform_s(rng, 1, 12, no)
    rating = np.where(
        refunded,
        rng.choice([1, 2, 3], size=no, p=[0.55, 0.30, 0.15]),
        rng.choice([1, 2, 3, 4, 5], size=no, p=[0.05, 0.05, 0.10, 0.28, 0.52]),
    )
    o_rank = seg_rank(np.bincount(o_user, minlength=n))  # orders are grouped by user already
    survey = delivered & (rng.random(no) < np.where(o_rank == 0, 0.30, 0.05))
    nps_ts = o_del + uniform_s(rng, 1, 6, no)
    mu = PE_NPS_MU[pe[o_user]] - 3.5 * refunded + 0.4 * np.log(eng[o_user])
    score = np.clip(np.round(rng.normal(mu, 1.9)), 0, 10).astype(np.int64)

    # -- invites: promoters and buyers invite most; friends who accept arrive via referral
    best = np.full(n, -1, dtype=np.int64)
    np.maximum.at(best, o_user[survey], score[survey])
    promoter = best >= 9
    bought = np.bincount(o_user, minlength=n) > 0
    first_del = np.full(n, END, dtype=np.int64)
    np.minimum.at(first_del, o_user, o_del)
    p_inv = (0.05 + 0.15 * bought + 0.25 * promoter) * PE_INVITE[pe]
    inviter = will_signup & (rng.random(n) < np.clip(p_inv, 0, 0.9))
    anchor = np.where(bought & (first_del < END), first_del, signup_ts + uniform_s(rng, 0, 3, n))
    n_inv = np.where(inviter, rng.geometric(0.45, size=n), 0)
    i_user = np.repeat(np.arange(n), n_inv)
    i_ts = anchor[i_user] + seg_cumsum(exp_s(rng, 8 * DAY, len(i_user), 600), n_inv)
    i_ok = i_ts < END
    i_user, i_ts = i_user[i_ok], i_ts[i_ok]
    ni = len(i_user)
    i_id = counters["invite"] + np.arange(ni)
    counters["invite"] += ni

    # -- write the events
    out.add("visit", uid[s_user], s_ts, campaign=s_camp, device=s_dev, session=s_id)
    out.add("product_view", uid[s_user[v_sess]], v_ts, session=s_id[v_sess], product=v_prod)
    out.add("add_to_cart", uid[s_user[c_sess]], c_ts, session=s_id[c_sess], product=c_prod)
    out.add(
        "signup",
        uid[will_signup],
        signup_ts[will_signup],
        referrer=users["referrer"][will_signup],
    )
    out.add("onboarding_complete", uid[onboarded], onb_ts[onboarded], session=s_id[os_])
    out.add(
        "purchase",
        uid[o_user],
        o_ts,
        amount=amount,
        currency=o_cur,
        order=o_id,
        session=s_id[o_sess],
    )
    d = delivered
    out.add("order_delivered", uid[o_user[d]], o_del[d], order=o_id[d])
    r = refunded & (r_ts < END)
    out.add("refund", uid[o_user[r]], r_ts[r], amount=r_amount[r], currency=o_cur[r], order=o_id[r])
    t = tk & (tk_ts < END)
    out.add("support_ticket", uid[o_user[t]], tk_ts[t], topic=tk_topic[t])
    v = review & (rv_ts < END)
    out.add("review_posted", uid[o_user[v]], rv_ts[v], product=o_prod[v], rating=rating[v])
    s = survey & (nps_ts < END)
    out.add("nps_survey", uid[o_user[s]], nps_ts[s], score=score[s])
    out.add("invite_sent", uid[i_user], i_ts, invite=i_id)

    # -- friends who accept an invite become the next generation
    accept = rng.random(ni) < 0.45
    f_t0 = i_ts + exp_s(rng, 1.2 * DAY, ni, 120)
    f = accept & (f_t0 < END)
    nf = int(f.sum())
    same_country = rng.random(nf) < 0.8
    return {
        "t0": f_t0[f],
        "channel": np.full(nf, CH["referral"]),
        "campaign": np.full(nf, CA["friend_invite"]),
        "persona": rng.choice(len(PERSONAS), size=nf, p=PE_SHARE),
        "country": np.where(
            same_country,
            users["country"][i_user[f]],
            rng.choice(len(COUNTRIES), size=nf, p=CO_SHARE),
        ),
        "device": rng.choice(len(DEVICES), size=nf, p=DEV_SHARE),
        "eng": np.exp(rng.normal(0.1, 0.35, size=nf)),
        "referrer": uid[i_user[f]],
    }


# ------------------------------------------------------------------------------------- build
def lookup(values: list[str], codes: np.ndarray) -> pl.Series:
    """Strings for integer codes, null where the code is -1."""
    idx = pl.Series(codes, dtype=pl.Int64)
    idx = idx.set(idx < 0, None)  # type: ignore[arg-type]
    return pl.Series(values, dtype=pl.String).gather(idx)


def ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """``prefix`` + zero-padded 1-based number, null where the number is -1."""
    s = pl.Series(numbers, dtype=pl.Int64)
    frame = pl.DataFrame({"n": s})
    return frame.select(
        pl.when(pl.col("n") >= 0)
        .then(pl.lit(prefix) + (pl.col("n") + 1).cast(pl.String).str.zfill(width))
        .otherwise(None)
    ).to_series()


def rank_by(keys: np.ndarray, first: np.ndarray, then: np.ndarray) -> np.ndarray:
    """Renumber internal ids 0..n-1 by sorting on (first, then): ``new[key]`` = its rank."""
    order = np.lexsort((then, first))
    new = np.empty(len(keys), dtype=np.int64)
    new[keys[order]] = np.arange(len(order))
    return new


def build() -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(SEED)
    catalog = make_catalog(rng)
    weights = channel_weights(rng)
    users = base_users(rng, weights)
    out = Events()
    counters = {"session": 0, "order": 0, "invite": 0}
    gens = [users]
    uid0 = 0
    while len(users["t0"]):  # referral generations: a handful at most
        friends = simulate(rng, users, uid0, catalog, counters, out)
        uid0 += len(users["t0"])
        users = friends
        gens.append(users)
    u = {key: np.concatenate([g[key] for g in gens]) for key in gens[0]}
    e = out.concat()
    inside = e["ts"] < END  # a late session may run past midnight of the last day
    e = {col: values[inside] for col, values in e.items()}

    # Public ids: u000001 arrived first, o0000001 / i000001 are the first order / invite, and
    # sessions are numbered user by user, in time order (they compress well that way).
    n_users = len(u["t0"])
    user_no = rank_by(np.arange(n_users), u["t0"], np.arange(n_users))
    visits = e["ev"] == EV["visit"]
    sess_no = rank_by(e["session"][visits], user_no[e["uid"][visits]], e["ts"][visits])
    buys = e["ev"] == EV["purchase"]
    order_no = rank_by(e["order"][buys], e["ts"][buys], user_no[e["uid"][buys]])
    sent = e["ev"] == EV["invite_sent"]
    invite_no = rank_by(e["invite"][sent], e["ts"][sent], user_no[e["uid"][sent]])

    def remap(table: np.ndarray, col: np.ndarray) -> np.ndarray:
        return np.where(col >= 0, table[np.maximum(col, 0)], -1)

    cat_of = catalog[0]
    uidx = e["uid"]
    is_view = e["ev"] == EV["product_view"]
    frame = pl.DataFrame(
        {
            "user_id": ids("u", user_no[uidx], 6),
            "event": lookup(EVENTS, e["ev"]),
            "timestamp": pl.Series(e["ts"] * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "channel": lookup(CHANNELS, u["channel"][uidx]),
            "campaign": lookup(CAMPAIGNS, e["campaign"]),
            "country": lookup(COUNTRIES, u["country"][uidx]),
            "device": lookup(DEVICES, e["device"]),
            "persona": lookup(PERSONAS, u["persona"][uidx]),
            "session_id": ids("s", remap(sess_no, e["session"]), 7),
            "product_id": ids("p", e["product"], 4),
            "category": lookup(
                CATEGORIES, np.where(is_view, cat_of[np.maximum(e["product"], 0)], -1)
            ),
            "referrer_id": ids("u", remap(user_no, e["referrer"]), 6),
            "amount": pl.Series(e["amount"], dtype=pl.Float64).fill_nan(None),
            "currency": lookup(CURRENCIES, e["currency"]),
            "order_id": ids("o", remap(order_no, e["order"]), 7),
            "invite_id": ids("i", remap(invite_no, e["invite"]), 6),
            "score": pl.Series(e["score"], dtype=pl.Int64),
            "rating": pl.Series(e["rating"], dtype=pl.Int64),
            "topic": lookup(TOPICS, e["topic"]),
        }
    )
    frame = frame.with_columns(
        pl.when(pl.col(c) >= 0).then(pl.col(c)).otherwise(None).alias(c)
        for c in ("score", "rating")
    )
    step = pl.col("event").replace_strict(EVENTS, list(range(len(EVENTS))), return_dtype=pl.Int64)
    frame = frame.sort(["user_id", "timestamp", step], maintain_order=True)
    spend = make_spend(weights)
    return frame, spend


def make_spend(weights: np.ndarray) -> pl.DataFrame:
    rows = []
    for name, total in BUDGET.items():  # four paid channels
        w = weights[CH[name]]
        rows.append(
            pl.DataFrame(
                {
                    "date": pl.date_range(date(2025, 1, 1), date(2025, 6, 30), eager=True),
                    "channel": [name] * N_DAYS,
                    "amount": np.round(total * w / w.sum(), 2),
                }
            )
        )
    return pl.concat(rows).sort(["date", "channel"])


def to_bytes(events: pl.DataFrame, spend: pl.DataFrame) -> tuple[bytes, bytes]:
    buf = io.BytesIO()
    events.write_parquet(
        buf, compression="zstd", compression_level=19, statistics=True, row_group_size=128_000
    )
    return buf.getvalue(), spend.write_csv(float_precision=2).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    parser.add_argument(
        "--check", action="store_true", help="compare with the files on disk instead of writing"
    )
    args = parser.parse_args(argv)
    events, spend = build()
    files = dict(zip(("events.parquet", "spend.csv"), to_bytes(events, spend), strict=True))
    if args.check:
        same = all((args.out / name).read_bytes() == data for name, data in files.items())
        for name, data in files.items():
            print(f"{name}: sha256 {hashlib.sha256(data).hexdigest()}", file=sys.stderr)
        print("identical" if same else "DIFFERENT", file=sys.stderr)
        return 0 if same else 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        tmp = args.out / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(args.out / name)
        print(f"wrote {args.out / name} ({len(data):,} bytes)", file=sys.stderr)
    print(
        f"{events.height:,} events, {events['user_id'].n_unique():,} users, "
        f"{events['order_id'].n_unique() - 1:,} orders",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
