/* Guest program for the Linux boot test (built static and added to the initramfs): two threads
 * of one process run on both CPUs while one of them maps, touches and unmaps pages, so every
 * munmap must shoot down the other CPU's TLB (Hyper-V: HvFlushVirtualAddress* hypercalls). */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>

static volatile int stop;

static void *spin(void *arg)
{
    (void)arg;
    while (!stop)
        ;
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, spin, NULL))
        return 1;
    for (int i = 0; i < 200; i++) {
        char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 1;
        p[0] = 1; /* populated PTEs: the unmap has something to flush */
        p[4096] = 1;
        munmap(p, 8192);
    }
    stop = 1;
    pthread_join(t, NULL);
    puts("threads-done");
    return 0;
}
