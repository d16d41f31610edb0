"""Deployment of rendered artifacts with Pulumi (the program in ``stacks/``).

- :mod:`.config`: the stack configuration, validated into a typed object before anything is declared;
- :mod:`.mapping`: pure translation of artifact objects (Kubernetes manifests, CloudWatch request bodies)
  into the arguments of typed Pulumi resources;
- :mod:`.program`: the stack program: render in memory (``generators.render.render``), declare resources;
- :mod:`.mocks`: run the program under ``pulumi.runtime.set_mocks`` (``mlmon plan`` and the tests).

Only :mod:`.program` and :mod:`.mocks` import Pulumi; importing this package does not.
"""
