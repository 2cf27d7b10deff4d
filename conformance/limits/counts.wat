;; Two memories' worth of limits to reach with -W: one memory of 2 pages, a
;; table of 10 funcrefs and one of 5 externrefs.
(module (memory 2) (table 10 funcref) (table 5 externref) (func (export "_start")))
