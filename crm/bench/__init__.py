"""The benchmark of issue 13: ``crm bench generate`` writes a realistic, reproducible community (community.py
draws it, generate.py writes it through the import's bulk writer and the services), and ``crm bench run``
(run.py, floors.py) times the main pages and APIs against their floors. It sits just below the ``crm`` command:
it assembles the app (crm.app) to drive it, so nothing imports it but cli.py and the tests."""
