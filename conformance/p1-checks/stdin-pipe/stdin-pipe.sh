# 1 MB in 10 chunks with pauses, starting after one: reads find the pipe empty.
sleep 0.3
for i in $(seq 1 10); do head -c 100000 /dev/zero | tr '\0' 'a'; sleep 0.05; done
