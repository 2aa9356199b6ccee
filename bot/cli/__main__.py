"""``python -m bot.cli``: the ``kefu`` command without the console script."""

from bot.cli import main

main()
