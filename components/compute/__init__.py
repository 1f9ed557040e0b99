"""Kubernetes on EKS: the cluster and its system nodes (``cluster``), node autoscaling with
Karpenter (``karpenter``) and the cluster-wide controllers every workload relies on
(``addons``). Each module is one ``ComponentResource`` plus the pure functions that build
its IAM documents and Kubernetes objects, so tests and policy checks load the exact values."""
