"""softmaxbook: the tested code behind the course "Softmax, deeply".

One module per topic, each introduced by a chapter:

* :mod:`softmaxbook.expfamily` -- chapter 1, softmax as an exponential family;
* :mod:`softmaxbook.hessian` -- chapter 2, the Hessian of the loss is a covariance;
* :mod:`softmaxbook.coding` -- chapter 3, coding three equiprobable symbols;
* :mod:`softmaxbook.lse` -- chapter 4, LogSumExp, the real soft maximum;
* the connections between the chapters: :mod:`softmaxbook.regression` (chapter 2,
  from logits to weights, the empirical Fisher), :mod:`softmaxbook.arithmetic`
  (chapter 3, cross-entropy as a code length), :mod:`softmaxbook.duality`,
  :mod:`softmaxbook.gumbel` and :mod:`softmaxbook.streaming` (chapter 4: entropy
  duality, Gumbel-max, streaming LogSumExp);
* :mod:`softmaxbook.checks` -- the input checks they all use: one rule and one message
  per kind of argument (vectors, lambda, positive numbers, counts);
* :mod:`softmaxbook.interactive` -- figures that are live in a kernel and
  kernel-free on the website;
* :mod:`softmaxbook.figures` -- each chapter's figures (``figures.ch1`` ... ``ch4``, and
  ``figures.connections`` for the simplex and race figures);
* :mod:`softmaxbook.tables` -- the one HTML table of computed values;
* :mod:`softmaxbook.grader` -- graded exercises (``check``, ``progress``) and the
  instructor's batch grader (``python -m softmaxbook grade``).

Topic modules hold the mathematics (numpy, sympy, mpmath; no plotting, widgets or
I/O). Imports run one way, as the chapters build on each other: ``checks`` <- ``lse`` <-
``expfamily`` <- ``hessian``; ``coding`` stands alone; ``interactive`` and ``grader`` use the topic
modules, never the reverse.
"""

__version__ = "0.1.0"
