"""The bundled recipes, installed as the data package ``ganzoo.recipes`` (see pyproject.toml),
so that a recipe name such as ``dcgan_mnist`` is found wherever ganzoo is installed."""
