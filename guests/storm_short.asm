; storm_short: the storm guest (storm.asm) stopped after 213 interrupts, the
; length of the storm issue #12 measured: a short recording, where the
; trace's fixed part (header, end, footer, first full registers) weighs most
; per interrupt.
%define STORM_TICKS 213
%include "storm.asm"
