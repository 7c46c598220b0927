; Runs cpuid for (leaf, subleaf) pairs from the host and reports eax..edx.
bits 16
org 0x7C00
next:
    in eax, 0x50
    mov esi, eax
    in eax, 0x51
    mov ecx, eax
    mov eax, esi
    cpuid
    out 0x52, eax
    mov eax, ebx
    out 0x52, eax
    mov eax, ecx
    out 0x52, eax
    mov eax, edx
    out 0x52, eax
    jmp next
