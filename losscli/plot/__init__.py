"""Pictures of losses: curves from the catalogue's definitions and distributions from histogram states.

    curves.py   a loss against the residual, the probability of the true class or the margin (and its gradient)
    spread.py   the engine's fixed-bin histogram of per-row losses, coarsened for drawing; quantiles from it
    terminal.py Unicode/ASCII rendering for terminals and CI logs (no dependency beyond the standard library)
    files.py    PNG/SVG/PDF files through matplotlib (the `plot` extra), imported only when a file is asked for

Each module computes first and draws second, so the terminal, the files and the HTML report draw the
same numbers.
"""
