"""Reasoning: satisfaction prediction with a heterogeneous GNN over the cognitive graph.

Modules (torch, PyG and LightGBM are imported only inside the modules that need them, never here):

* :mod:`needgraph.reasoning.features` - :class:`FeatureSchema`, the recorded recipe that turns
  a store into tensors (stdlib only);
* :mod:`needgraph.reasoning.export` - store -> PyG ``HeteroData`` (streamed, public store API);
  its readers in ``export_read``, its numeric encodings in ``encode``;
* :mod:`needgraph.reasoning.model` - the heterogeneous GNN (SAGE / GAT / R-GCN / HGT, and an MLP
  ablation);
* :mod:`needgraph.reasoning.layers` - sparse mean adjacency and the R-GCN layer;
* :mod:`needgraph.reasoning.heads` - ordinal heads, losses and decoding to a 1-5 score;
* :mod:`needgraph.reasoning.sampler` - pure-torch neighbour sampler for mini-batch training;
* :mod:`needgraph.reasoning.train` - training with early stopping and bagging, prediction;
* :mod:`needgraph.reasoning.artifacts` - save / load a trained model with its feature schema;
* :mod:`needgraph.reasoning.baseline` - LightGBM on the same inputs;
* :mod:`needgraph.reasoning.metrics` - MAE, ROC-AUC(dissatisfied), macro-F1 over bands;
* :mod:`needgraph.reasoning.q1` - the Q1 protocol (cross-validation or train-and-score).

Explanations and recommendations over the same model live beside them (``explain``, ``drivers``,
``recommend``, ``q2``, ``sentences``).
"""
