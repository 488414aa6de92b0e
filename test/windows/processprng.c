/* bcryptprimitives.dll for wine 8: exports ProcessPrng, which Go >= 1.22
 * Windows executables import and wine 8 lacks. It fills the buffer from
 * RtlGenRandom (advapi32 SystemFunction036). Test-only, built by
 * scripts/test.d/50-windows.sh with x86_64-w64-mingw32-gcc. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    return TRUE;
}
