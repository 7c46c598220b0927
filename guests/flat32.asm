; flat32: an ELF32 guest linked at 1 MiB (flat32.ld). rrvm loads it by its
; program headers and starts it in flat 32-bit protected mode at e_entry; the
; multiboot header lets `qemu-system-i386 -kernel flat32.elf` run it
; unchanged. It checks what the loader must have done (code at the linked
; address, .data copied, .bss zeroed) and prints it. Exit 0.
%include "macros.inc"
bits 32

MULTIBOOT_MAGIC equ 0x1BADB002
MULTIBOOT_FLAGS equ 0

section .multiboot progbits alloc noexec nowrite align=4
    dd MULTIBOOT_MAGIC
    dd MULTIBOOT_FLAGS
    dd -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

section .text
global _start
_start:
    cli
    mov esp, stack_top                 ; neither rrvm nor multiboot promise a stack
    call uart_init
    PRINT "flat32: hello from flat 32-bit protected mode", 10
    PRINT "flat32: CR0.PE=1: "
    mov eax, cr0
    test al, 1
    PRINT_YESNO nz
    PRINT "flat32: running at the linked address: "
    call .here
.here:
    pop eax
    cmp eax, .here
    PRINT_YESNO e
    PRINT "flat32: .data loaded: "
    cmp dword [data_word], DATA_PATTERN
    PRINT_YESNO e
    PRINT "flat32: .bss zeroed: "
    mov edi, bss_area
    mov ecx, BSS_DWORDS
    xor eax, eax
    cld
    repe scasd
    PRINT_YESNO e
    EXIT 0

%include "console.inc"

DATA_PATTERN equ 0xC0FFEE42
BSS_DWORDS equ 1024

section .data
data_word: dd DATA_PATTERN

section .bss
alignb 16
bss_area: resd BSS_DWORDS
stack: resb 4096
stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
