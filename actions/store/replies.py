"""Shopper-facing text built from the store service's views: specific, short, no canned filler.

Pure functions (no Rasa, no database) so every reply is unit-tested on hand-built views and any
channel can reuse them. ``refusal_text`` turns each domain error into its explanation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from actions.store.policy import (
    RETURN_SHIP_BACK_DAYS,
    RETURN_WINDOW_DAYS,
    STORE_POLICY,
    ItemCondition,
)
from actions.store.types import (
    AddressChange,
    AlreadyShipped,
    Cancellation,
    CancelQuote,
    ConditionNotAccepted,
    DeliveryOption,
    FinalSale,
    InvoiceView,
    ItemView,
    NoInvoice,
    NotDelivered,
    NothingToReturn,
    NotVerified,
    OrderClosed,
    OrderSummary,
    OutsideReturnWindow,
    ReturnableItem,
    ReturnOutcome,
    ReturnQuote,
    StoreError,
    StoreUnavailable,
)

__all__ = [
    "address_change_text",
    "already_cancelled_text",
    "cancel_quote_text",
    "cancellation_fee_text",
    "cancellation_text",
    "change_order_text",
    "day",
    "delivery_options_text",
    "delivery_period_text",
    "invoice_text",
    "money",
    "payment_text",
    "refund_text",
    "refusal_text",
    "return_confirm_text",
    "return_items_text",
    "return_outcome_text",
    "track_text",
]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def money(amount: Decimal, currency: str = "USD") -> str:
    """``$1,234.50`` (or ``1,234.50 CHF`` for a currency without a symbol here)."""
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


def day(value: dt.date | dt.datetime) -> str:
    """``Mon, Nov 18``."""
    return f"{value:%a, %b} {value.day}"


def _items(items: Sequence[ItemView], with_status: bool = True) -> str:
    parts = []
    for item in items:
        text = f"{item.quantity} × {item.product_name}"
        if with_status:
            text += f" ({item.status.replace('_', ' ')})"
        parts.append(text)
    return "; ".join(parts)


def _shipping(summary: OrderSummary) -> str:
    return summary.shipping_method.replace("_", "-")


def track_text(summary: OrderSummary, today: dt.date) -> str:
    """Status, carrier, tracking number, ETA and per-item status of an order."""
    head = f"Order #{summary.number} (placed {day(summary.placed_at)}, {money(summary.total, summary.currency)})"
    shipment = summary.shipments[-1] if summary.shipments else None
    if summary.status == "processing":
        text = (
            f"{head} is being prepared and hasn't shipped yet. It goes {_shipping(summary)} to "
            f"{summary.shipping_address}; you'll get a tracking number as soon as it ships. "
            "Until then you can still cancel it or change the address."
        )
    elif summary.status == "shipped" and shipment is not None:
        eta = shipment.estimated_delivery
        text = f"{head} shipped with {shipment.carrier}"
        if shipment.shipped_at:
            text += f" on {day(shipment.shipped_at)}"
        text += f", tracking number {shipment.tracking_number}. "
        if shipment.status == "exception" or (eta is not None and eta < today):
            text += (
                "It's running late: the carrier reported a delay"
                + (f" after its estimate of {day(eta)}" if eta else "")
                + ". "
                + (
                    f"Most late parcels arrive within {day_span(late, late)}; if it hasn't by "
                    "then, ask"
                    if (late := STORE_POLICY.late_parcel_days)
                    else "Ask"
                )
                + " me for a human agent and we'll chase the carrier."
            )
        elif shipment.status == "out_for_delivery":
            text += "It's out for delivery today."
        elif eta is not None:
            text += f"It's in transit, arriving {day(eta)}."
        else:
            text += "It's in transit."
    elif summary.status == "delivered" and shipment is not None:
        when = day(shipment.delivered_at) if shipment.delivered_at else "recently"
        text = (
            f"{head} was delivered by {shipment.carrier} on {when} "
            f"(tracking number {shipment.tracking_number})."
        )
        if today <= summary.return_deadline:
            text += f" Returns are open until {day(summary.return_deadline)}."
    elif summary.status == "cancelled":
        when = f" on {day(summary.cancelled_at)}" if summary.cancelled_at else ""
        text = f"{head} was cancelled{when}. {refund_text(summary)}"
        return text
    elif summary.status == "returned":
        text = f"{head} was returned. {refund_text(summary)}"
        return text
    else:
        text = f"{head} is {summary.status.replace('_', ' ')}."
    return f"{text} Items: {_items(summary.items)}."


def refund_text(summary: OrderSummary) -> str:
    """Where the money of an order's refunds and open returns stands."""
    parts = []
    for refund in summary.refunds:
        amount = money(refund.amount, summary.currency)
        label = f"for return {refund.return_id}" if refund.return_id else "for the cancellation"
        if refund.status == "completed" and refund.completed_at:
            parts.append(f"{amount} {label} was refunded on {day(refund.completed_at)}")
        elif refund.status == "failed":
            parts.append(
                f"the refund of {amount} {label} failed; a human agent will sort it out with you"
            )
        else:
            bank = STORE_POLICY.refund_bank_days
            parts.append(
                f"{amount} {label} is being refunded (started {day(refund.created_at)}"
                + (f"; banks usually take {day_span(*bank)} to show it)" if bank else ")")
            )
    refunded_returns = {r.return_id for r in summary.refunds if r.return_id}
    for ret in summary.returns:
        if ret.return_id in refunded_returns or ret.status in ("refunded", "rejected"):
            continue
        parts.append(
            f"return {ret.return_id} ({ret.product_name}) is {ret.status}; its refund is issued "
            "once we receive the item"
        )
    if not parts:
        return f"There's no refund on order #{summary.number}."
    text = "; ".join(parts)
    return f"Refunds on order #{summary.number}: {text}."


def payment_text(summary: OrderSummary) -> str:
    """The payment state of an order, with what it means and what to do."""
    if not summary.payments:
        return f"I can't see a payment on order #{summary.number}; a human agent can check it with you."
    notes = []
    for payment in summary.payments:
        amount = money(payment.amount, summary.currency)
        label = payment.label
        if payment.status == "captured":
            when = f" on {day(payment.paid_at)}" if payment.paid_at else ""
            notes.append(f"{amount} was charged to your {label}{when} and the payment is complete")
        elif payment.status == "authorized":
            notes.append(
                f"{amount} is authorised on your {label} but not charged yet: the charge goes "
                "through when the order ships, and a cancelled order releases the hold"
            )
        elif payment.status in ("refunded", "partially_refunded"):
            notes.append(
                f"the payment of {amount} by {label} was {payment.status.replace('_', ' ')}"
            )
        elif payment.status == "voided":
            notes.append(
                f"the authorisation of {amount} on your {label} was released; nothing was charged"
            )
        elif payment.status == "failed":
            notes.append(
                f"the payment of {amount} by {label} failed; please pay again from Account → Orders, "
                "or I can connect you with a human agent"
            )
        else:
            notes.append(f"the payment of {amount} by {label} is {payment.status}")
    text = "; ".join(notes)
    return (
        f"Order #{summary.number}: {text}. If you see a different amount or a double charge on "
        "your statement, ask me for a human agent and we'll look into it."
    )


def invoice_text(invoice: InvoiceView, send: bool) -> str:
    """The invoice's number, date, amounts and lines (``send``: the shopper asked for a copy)."""
    text = (
        f"Invoice {invoice.number} for order #{invoice.order_number}, issued {day(invoice.issued_at)} "
        f"to {invoice.billed_to}: {_items(invoice.items, with_status=False)}. Subtotal "
        f"{money(invoice.subtotal, invoice.currency)}, shipping {money(invoice.shipping_fee, invoice.currency)}, "
        f"tax {money(invoice.tax, invoice.currency)}, total {money(invoice.amount, invoice.currency)}."
    )
    if send:
        text += (
            " You can download the PDF under Account → Orders → "
            f"#{invoice.order_number} → Invoice; if you checked out as a guest, ask me for a "
            "human agent and they'll email it to you."
        )
    return text


def change_order_text(summary: OrderSummary) -> str:
    """What can still be changed on an order, given its status."""
    if summary.status == "processing":
        return (
            f"Order #{summary.number} hasn't shipped yet, so it can still change. I can change its "
            "shipping address or cancel it for a full refund (then you can place a new order). To "
            "swap or add items, ask me for a human agent and they'll edit it for you."
        )
    if summary.status in ("shipped", "delivered"):
        return (
            f"Order #{summary.number} has already {summary.status}, so it can't be changed any "
            f"more. Once it's delivered you can return items within {RETURN_WINDOW_DAYS} days of "
            f"purchase (until {day(summary.return_deadline)}) and order what you need instead."
        )
    return f"Order #{summary.number} is {summary.status}, so there's nothing left to change on it."


def cancel_quote_text(quote: CancelQuote) -> str:
    """The confirmation question for a cancellation, with the refund amount."""
    total = money(quote.total, quote.currency)
    if quote.charged:
        money_part = (
            f"I'll refund {money(quote.refund_amount, quote.currency)} to your {quote.payment} "
            "(no cancellation fee)"
        )
    else:
        money_part = (
            f"you haven't been charged yet: the {total} authorisation on your {quote.payment} is "
            "released, so there's nothing to refund"
        )
    return (
        f"Order #{quote.order_number} ({quote.item_count} item{'s' if quote.item_count != 1 else ''}, "
        f"{total}) hasn't shipped yet. If I cancel it, {money_part}. Shall I cancel order "
        f"#{quote.order_number}?"
    )


def cancellation_text(result: Cancellation) -> str:
    """The reply after a cancellation (or to a repeated one)."""
    if result.charged:
        money_part = (
            f"The refund of {money(result.refund_amount, result.currency)} to your {result.payment} "
            f"is {result.refund_status or 'on its way'}; banks usually take 5–10 business days to show it."
        )
    else:
        money_part = f"Nothing was charged; the hold on your {result.payment} is released."
    if result.changed:
        return f"Done: order #{result.order_number} is cancelled. {money_part}"
    return (
        f"Order #{result.order_number} was already cancelled on {day(result.cancelled_at)}, so "
        f"nothing more was changed. {money_part}"
    )


def already_cancelled_text(summary: OrderSummary) -> str:
    """The reply to cancelling an order that is already cancelled (nothing changes)."""
    when = f" on {day(summary.cancelled_at)}" if summary.cancelled_at else ""
    return (
        f"Order #{summary.number} was already cancelled{when}, so nothing more was changed. "
        f"{refund_text(summary)}"
    )


def address_change_text(result: AddressChange) -> str:
    """The reply after an address change (or to a repeated one)."""
    if result.changed:
        return (
            f"Done: order #{result.order_number} will now ship to {result.new_address} "
            f"(instead of {result.old_address})."
        )
    return f"Order #{result.order_number} already ships to {result.new_address}; nothing to change."


def return_items_text(quote: ReturnQuote) -> str:
    """The numbered list of returnable items, asking which one to return."""
    lines = [
        f"{n}. {item.quantity} × {item.product_name} (refund {money(item.refund_amount, quote.currency)})"
        for n, item in enumerate(quote.items, start=1)
    ]
    text = f"Which item of order #{quote.order_number} would you like to return?\n" + "\n".join(
        lines
    )
    text += '\nReply with its number, or "all".'
    if quote.final_sale:
        text += f" ({', '.join(quote.final_sale)} was sold as final sale and can't be returned.)"
    return text


def return_confirm_text(
    quote: ReturnQuote, items: Sequence[ReturnableItem], condition: ItemCondition
) -> str:
    """The confirmation question for a return, with the refund amount."""
    total = sum((i.refund_amount for i in items), Decimal("0"))
    names = "; ".join(f"{i.quantity} × {i.product_name}" for i in items)
    return (
        f"To confirm: return {names} from order #{quote.order_number} ({condition.label}). Once we "
        f"receive it, you get {money(total, quote.currency)} back to your {quote.payment} "
        "(item price and its tax; shipping isn't refunded). Shall I open the return?"
    )


def return_outcome_text(outcome: ReturnOutcome) -> str:
    """The return id(s) and the instructions."""
    ids = ", ".join(f"{r.return_id} ({r.product_name})" for r in outcome.returns)
    lead = "Your return is open" if outcome.changed else "That return is already open"
    return (
        f"{lead}: {ids}. Pack the item in its original packaging with the return id on a note "
        f"inside, and send it back by {day(outcome.ship_back_by)} ({RETURN_SHIP_BACK_DAYS} days) "
        "with the prepaid label we email you. Once it arrives you get "
        f"{money(outcome.refund_amount, outcome.currency)} back to your {outcome.payment}."
    )


def delivery_options_text(options: Sequence[DeliveryOption]) -> str:
    """The shipping methods with fees and times (from the store's data)."""
    parts = []
    for option in options:
        fee = money(option.fee)
        if option.free_from is not None:
            fee += f" (free from {money(option.free_from)})"
        parts.append(
            f"{option.label}: {fee}, {day_span(option.min_days, option.max_days)} after dispatch"
        )
    carriers = ", ".join(options[0].carriers) if options else ""
    text = ("We ship with " + f"{carriers}. " if carriers else "") + "; ".join(parts) + "."
    low, high = STORE_POLICY.dispatch_days
    return (
        f"{text} Orders usually leave the warehouse within {day_span(low, high)}. You choose the "
        "method at checkout."
    )


def day_span(low: int, high: int) -> str:
    """``3–5 business days``, ``1 business day`` (or plain days, as the store policy counts)."""
    word = STORE_POLICY.day_word
    if low == high:
        return f"{low} {word[:-1] if low == 1 else word}"
    return f"{low}–{high} {word}"


def delivery_period_text(
    options: Sequence[DeliveryOption], summary: OrderSummary | None, today: dt.date
) -> str:
    """How long delivery takes; for a verified order also its own estimate."""
    parts = []
    for option in options:
        text = f"{option.label} {day_span(option.min_days, option.max_days)}"
        if option.typical_days is not None:
            text += f" (recent parcels took {option.typical_days:g} days on average)"
        parts.append(text)
    text = "After an order ships, delivery takes: " + "; ".join(parts) + "."
    if summary is not None:
        text += " " + track_text(summary, today)
    else:
        text += " Tell me your order number and I can check the estimated delivery of your order."
    return text


def cancellation_fee_text(quote: CancelQuote | None) -> str:
    """The cancellation rule; with a quote, what cancelling that order would refund."""
    text = (
        "There's no fee to cancel an order that hasn't shipped: you get back everything you paid. "
        f"Once it has shipped it can't be cancelled, but you can return it within {RETURN_WINDOW_DAYS} "
        "days of purchase."
    )
    if quote is not None:
        if quote.charged:
            text += (
                f" Your order #{quote.order_number} hasn't shipped, so cancelling it would refund "
                f"{money(quote.refund_amount, quote.currency)}."
            )
        else:
            text += f" Your order #{quote.order_number} hasn't shipped and hasn't been charged yet."
    return text


def refusal_text(error: StoreError) -> str:
    """Why a request cannot be done, and what the shopper can do instead."""
    if isinstance(error, AlreadyShipped):
        when = f" on {day(error.shipped_at)}" if error.shipped_at else ""
        return (
            f"Order #{error.order_number} has already {error.status}{when}, so it can't be cancelled "
            f"or changed any more. Once it's delivered you can return it within {RETURN_WINDOW_DAYS} "
            "days of purchase; ask me to track it to see where it is."
        )
    if isinstance(error, OrderClosed):
        return (
            f"Order #{error.order_number} is {error.status}, so nothing on it can change any more. "
            "Ask me about its refund to see where the money is."
        )
    if isinstance(error, NotDelivered):
        if error.status == "processing":
            return (
                f"Order #{error.order_number} hasn't shipped yet, so there's nothing to return: you "
                "can cancel it instead for a full refund."
            )
        return (
            f"Order #{error.order_number} is on its way but hasn't been delivered yet. Once it "
            f"arrives you can return it within {RETURN_WINDOW_DAYS} days of purchase."
        )
    if isinstance(error, OutsideReturnWindow):
        return (
            f"Sorry, order #{error.order_number} is outside our {RETURN_WINDOW_DAYS}-day return window "
            f"(it closed on {day(error.deadline)}), so it can't be returned. If the item is "
            "defective, a human agent can check the warranty with you."
        )
    if isinstance(error, FinalSale):
        return (
            f"Sorry, {', '.join(error.products)} from order #{error.order_number} was sold as final "
            "sale, so it can't be returned or refunded. If it arrived damaged, ask me for a human agent."
        )
    if isinstance(error, NothingToReturn):
        if error.open_returns:
            ids = ", ".join(
                f"{r.return_id} ({r.product_name}, {r.status})" for r in error.open_returns
            )
            return f"Everything on order #{error.order_number} is already being returned: {ids}."
        return f"There's nothing left to return on order #{error.order_number}."
    if isinstance(error, ConditionNotAccepted):
        return (
            f"Sorry, we can only take back items in their original condition (unopened, or opened "
            f"but like new) or that arrived damaged, so I can't open a return for an item that's "
            f"{ItemCondition(error.condition).label}. If it stopped working, a human agent can check "
            "the warranty with you."
        )
    if isinstance(error, NoInvoice):
        return (
            f"Order #{error.order_number} has no invoice yet: it's issued once the payment is "
            "charged, usually when the order ships."
        )
    if isinstance(error, NotVerified):
        return (
            "I can't match that order with your details, so I can't share or change anything on it. "
            "Please check the order number and email."
        )
    if isinstance(error, StoreUnavailable):
        return (
            "Sorry, I can't reach our order system right now. Please try again in a few minutes, or "
            "ask for a human agent."
        )
    return "Sorry, I couldn't do that. A human agent can help: just ask for one."
