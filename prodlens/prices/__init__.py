"""Model prices: LiteLLM's price map as the effective-dated `model_prices` seed (`prodlens prices update`)."""
