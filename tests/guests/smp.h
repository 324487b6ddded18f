/* smp guest: constants shared by smp.c and smp_trampoline.S */
#ifndef SMP_H
#define SMP_H

#define SMP_TRAMPOLINE_ADDR 0x70000   /* SIPI vector 0x70; clear of 0x9000.. */
#define SMP_MAX_APS         63
#define SMP_AP_STACK_SHIFT  13        /* 8 KiB per AP */

#endif
