# stdin of p2-stdin, piped in live: about 4 MB of numbered lines in 40 chunks
# with pauses, starting after one, so that reads often find the pipe empty
# (node's p1 fd_read then says EAGAIN).
sleep 0.3
for i in $(seq 1 40); do
  seq $((i * 100000)) $((i * 100000 + 12000))
  sleep 0.05
done
