"""Regenerate ontology/kg.owl (RDF/XML, for owlready2 and other tools) from ontology/kg.ttl.

usage: .venv/bin/python ontology/build.py
"""

from kg.ontology import write_owl

if __name__ == "__main__":
    print(write_owl())
