"""Trained pipelines shipped with Kroniek (one folder each, with a README).

Importing this package registers the custom spaCy parts the shipped
pipelines use (the e5 static vectors table), so that ``spacy.load`` on a
folder here works; ``kroniek.nlp.tokens`` imports it before loading.
"""

from . import ops

ops.install()  # numpy's BLAS for thinc's matrix products (see ops.py)

from . import e5vectors  # noqa: F401,E402  (registers kroniek.E5Vectors.v1)
from . import e5context  # noqa: F401,E402  (registers kroniek_e5_context, kroniek.E5Features.v1, kroniek.E5Embed.v1)
from . import paragraphs  # noqa: F401,E402  (registers kroniek_paragraph_breaks)
