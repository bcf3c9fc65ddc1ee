"""Social-insurance computations that are not household programs.

Province-level pooling of the basic pension (``pooling``: the 2018-2021 central adjustment fund) and
the transfer of a person's pension relationship between places and schemes (``transfer``). They read
the same dated, cited parameters as the household programs (``insurance.central_adjustment.*``,
``insurance.pension_transfer.*``) and use the same exact money arithmetic (integer fen, Decimal
ratios, a named rounding mode).
"""
