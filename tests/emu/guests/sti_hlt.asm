; sti; hlt with an interrupt waiting: the hlt sits in sti's shadow.
bits 16
org 0x7C00
    cli
    out 0x80, al          ; marker: IF=0 here
    sti
at_hlt:
    hlt
    out 0x81, al
    hlt
labels: dw at_hlt
