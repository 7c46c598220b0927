; bench_compute: about 100 million instructions of register arithmetic with
; no exits (a xorshift loop), then exit 0. Measures instructions per second.
%include "boot.inc"

main:
    mov ecx, 20000000
    mov eax, 2463534242
.loop:
    mov edx, eax
    shl edx, 13
    xor eax, edx
    mov edx, eax
    shr edx, 17
    xor eax, edx
    dec ecx
    jnz .loop
    EXIT 0

%include "console.inc"
BOOT_END
