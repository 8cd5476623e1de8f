"""The Solara app's components: one concept per module, thin over the model's public API."""
