"""A site and what runs on it: the hardware catalogue and ageing (``hardware``), the thin ``Site``
object (``site``), mining economics (``mining``), AI/HPC hosting and own-GPU cloud
(``hosting``), the compiled site cash-flow kernel (``kernel``)."""
