"""shortlists: named lists of candidate profiles (see service.shortlists.service)"""
