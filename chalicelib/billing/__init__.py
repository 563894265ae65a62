"""Subscriptions, plans and their limits, payments by Stripe (TapPay as the fallback card
processor) or PayPal, dunning and refunds."""
