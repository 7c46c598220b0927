; With an empty IDT, #UD cannot be delivered: #GP, #DF, then shutdown.
bits 16
org 0x7C00
    ud2
