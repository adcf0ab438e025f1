# Independent Philox4x32-10 (Salmon et al. 2011) written from the paper's round description.
M = 0xFFFFFFFF
def philox(ctr, key, rounds=10):
    c = list(ctr); k = list(key)
    for r in range(rounds):
        if r:
            k = [(k[0] + 0x9E3779B9) & M, (k[1] + 0xBB67AE85) & M]
        p0 = 0xD2511F53 * c[0]; p1 = 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k[0]) & M, p1 & M, ((p0 >> 32) ^ c[3] ^ k[1]) & M, p0 & M]
    return c
for ctr, key in [((0,0,0,0),(0,0)), ((M,M,M,M),(M,M)), ((0x243f6a88,0x85a308d3,0x13198a2e,0x03707344),(0xa4093822,0x299f31d0))]:
    print([hex(x) for x in philox(ctr,key)])
from fractions import Fraction
def uniform(seed, image, step, pos, stream):
    image &= (1<<64)-1
    x = philox((image & M, image >> 32, step, pos | (stream << 24)), (seed & M, seed >> 32))
    bits = (x[1] << 32) | x[0]
    k = bits >> 12
    f = Fraction(2*k+1, 1<<53)
    return float(f), f == Fraction(float(f))
for key in [(0,0,0,0,0),(42,7,3,100,1),(42|(1<<40),7|(1<<40),3,100,1),(42,7,3,100,0),((1<<64)-1, -(1<<63), 2**31-1, (1<<24)-1, 255),(12345,-1,19,255,1)]:
    v, exact = uniform(*key)
    print(key, repr(v), v.hex(), exact)
print("---")
base = (42, 7, 3, 100, 1)
variants = [base, (43,7,3,100,1), (42|(1<<40),7,3,100,1), (42,8,3,100,1), (42,7|(1<<40),3,100,1), (42,7,4,100,1), (42,7,3,101,1), (42,7,3,100,0), (0,0,0,0,0), ((1<<64)-1, -(1<<63), 2**31-1, (1<<24)-1, 255), (12345,-1,19,255,1)]
for k in variants:
    v,_ = uniform(*k); print(k, repr(v))
print(len(set(uniform(*k)[0] for k in variants)))
