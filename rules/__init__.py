"""Domain rules: money, rates, scores, grades, formatting.

Each rule lives in exactly one module here and is table-tested under tests/rules/.
Nothing in this package imports Flask, the database or any generator.
"""
