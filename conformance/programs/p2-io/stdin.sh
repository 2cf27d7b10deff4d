# stdin of p2-io: a unicode line, then about 2.4 MB of numbered lines.
printf 'grüße, 世界 🌍\n'
seq 1 340000
